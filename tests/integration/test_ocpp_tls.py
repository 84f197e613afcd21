"""wss with the hub's local CA: a charge point that trusts the CA connects; others do not."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from cryptography import x509

from tests.integration.ocpp_fixtures import make_config, running_hub
from tests.ocpp_client import boot_until_accepted, connected


async def test_wss_with_local_ca(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path, tls="local_ca")) as hub:
        ca = tmp_path / "tls" / "ca.pem"
        assert (tmp_path / "tls" / "ca-key.pem").stat().st_mode & 0o077 == 0
        cert = x509.load_pem_x509_certificate((tmp_path / "tls" / "server.pem").read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert "localhost" in san.get_values_for_type(x509.DNSName)
        url = f"wss://127.0.0.1:{hub.server.ports['wss']}"
        trusting = ssl.create_default_context(cafile=str(ca))
        async with connected(url, "CP1", ssl=trusting) as cp:
            await boot_until_accepted(cp)
        with pytest.raises(ssl.SSLCertVerificationError):
            async with connected(url, "CP1", ssl=ssl.create_default_context()):
                pass
        # Plain ws stays available beside it.
        async with connected(hub.url, "CP2") as cp:
            assert (await cp.boot()).status == "Pending"


async def test_local_ca_is_kept_across_restarts(tmp_path: Path) -> None:
    config = make_config(tmp_path, tls="local_ca")
    async with running_hub(config):
        first = (tmp_path / "tls" / "ca.pem").read_bytes()
    async with running_hub(config):
        assert (tmp_path / "tls" / "ca.pem").read_bytes() == first


async def test_operator_certificate(tmp_path: Path) -> None:
    from hub_engine.ocpp.tls import LocalCa
    other = LocalCa(tmp_path / "operator")
    other.ensure(["localhost", "127.0.0.1"])
    config = make_config(tmp_path, tls="operator", tls_cert_file=str(other.cert),
                         tls_key_file=str(other.key))
    async with running_hub(config) as hub:
        url = f"wss://127.0.0.1:{hub.server.ports['wss']}"
        ctx = ssl.create_default_context(cafile=str(other.ca_cert))
        async with connected(url, "CP1", ssl=ctx) as cp:
            assert (await cp.boot()).status == "Pending"
        assert not (tmp_path / "tls").exists()


def test_ca_cert_command_prints_the_ca_the_server_uses(tmp_path: Path) -> None:
    import subprocess
    import sys
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(f"hub: {{data_dir: {tmp_path}}}\n"
                   "sites: [{id: s, grid: {id: g, limit_a: 6}}]\n")
    out = subprocess.run([sys.executable, "-m", "hub_engine", "ca-cert", "--config", str(cfg)],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("-----BEGIN CERTIFICATE-----")
    assert out == (tmp_path / "tls" / "ca.pem").read_text()
    ca = x509.load_pem_x509_certificate(out.encode())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
