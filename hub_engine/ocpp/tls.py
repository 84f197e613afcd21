"""TLS for ``wss://``: the operator's certificate, or a local CA the hub creates.

The local CA lives in ``<data_dir>/tls/``: ``ca.pem`` is what the operator installs on the
charge points (it is public); ``ca-key.pem`` never leaves the box (mode 0600). The server
certificate's SANs are the hub's addresses (host name, configured host, every local
address, localhost); it is re-issued when they change or before it expires.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["LocalCa", "hub_addresses", "server_context"]

Name = x509.DNSName | x509.IPAddress


def hub_addresses(host: str) -> list[str]:
    names = {"localhost", "127.0.0.1", "::1", socket.gethostname()}
    if host not in ("0.0.0.0", "::", ""):
        names.add(host)
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            names.add(str(info[4][0]))
    except OSError:
        pass
    return sorted(names)


def _san(names: list[str]) -> list[Name]:
    out: list[Name] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name.split("%")[0])))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class LocalCa:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca_cert = folder / "ca.pem"
        self.ca_key = folder / "ca-key.pem"
        self.cert = folder / "server.pem"
        self.key = folder / "server-key.pem"

    def ensure(self, addresses: list[str], now: dt.datetime | None = None) -> None:
        now = now or dt.datetime.now(dt.UTC)
        self.folder.mkdir(parents=True, exist_ok=True)
        if not (self.ca_cert.exists() and self.ca_key.exists()):
            self._make_ca(now)
        if self._server_needs_renewal(addresses, now):
            self._issue_server(addresses, now)

    def _make_ca(self, now: dt.datetime) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Charge hub local CA"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, socket.gethostname())])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=365 * 20))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                             crl_sign=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, encipher_only=False,
                                             decipher_only=False), critical=True)
                .sign(key, hashes.SHA256()))
        _write_private(self.ca_key, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        self.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def _server_needs_renewal(self, addresses: list[str], now: dt.datetime) -> bool:
        if not (self.cert.exists() and self.key.exists()):
            return True
        cert = x509.load_pem_x509_certificate(self.cert.read_bytes())
        if cert.not_valid_after_utc - now < dt.timedelta(days=30):
            return True
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return set(_san(addresses)) != set(san)

    def _issue_server(self, addresses: list[str], now: dt.datetime) -> None:
        ca_key = serialization.load_pem_private_key(self.ca_key.read_bytes(), None)
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        ca_cert = x509.load_pem_x509_certificate(self.ca_cert.read_bytes())
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                            socket.gethostname())]))
                .issuer_name(ca_cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=825))
                .add_extension(x509.SubjectAlternativeName(_san(addresses)), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        _write_private(self.key, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        self.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                              + self.ca_cert.read_bytes())


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    return ctx
