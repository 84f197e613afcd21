"""The API against its own OpenAPI document: schemathesis (from PyPI) generates requests
from the spec, with an administrator's token and a reader's, and checks that nothing
answers 5xx and every answer matches the documented status codes, content types and
schemas; Swagger UI is served from the hub itself; HTTPS uses the local CA."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import requests

from tests.integration.api_fixtures import Hub

# Operations that would sign the fuzzer out or revoke its own token are tested by hand
# (test_api_accounts.py), and the live stream never ends (test_ui.py reads it); everything
# else is fuzzed with the administrator's rights.
DESTRUCTIVE = r"tokens/\{|users/\{|logout|live/stream|system/restart"


@pytest.fixture
def hub(tmp_path: Path):  # type: ignore[no-untyped-def]
    hub = Hub(tmp_path, https=True)
    try:
        yield hub
    finally:
        hub.stop()


def _schemathesis(hub: Hub, token: str, tmp_path: Path, *extra: str) -> dict[str, object]:
    report = tmp_path / f"st-{token[-6:]}.json"
    proc = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{hub.url}/openapi.json",
         "-H", f"Authorization: Bearer {token}", "--checks", "all",
         "--exclude-checks", "positive_data_acceptance",  # semantic refusals (no such target)
         "--max-examples", "30", "--seed", "7", "--report", "ndjson",
         "--report-ndjson-path", str(report), *extra],
        capture_output=True, text=True, timeout=600)
    (tmp_path / "schemathesis.txt").write_text(proc.stdout)  # the whole report
    assert proc.returncode == 0, proc.stdout[-6000:]
    return {"stdout": proc.stdout}


def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(hub: Hub,
                                                                  tmp_path: Path) -> None:
    hub.charge_point("CP1")
    admin = hub.send("POST", "/tokens", json={"name": "fuzz", "role": "admin"}).json()["token"]
    out = _schemathesis(hub, admin, tmp_path, "--exclude-path-regex", DESTRUCTIVE)
    assert "passed" in str(out["stdout"])
    reader = hub.send("POST", "/tokens", json={"name": "fuzz-r", "role": "reader"}).json()
    _schemathesis(hub, reader["token"], tmp_path,  # refusals included
                  "--exclude-path-regex", "live/stream")
    assert hub.get("/health").status_code == 200  # still standing


def test_openapi_and_the_docs_are_served_offline(hub: Hub) -> None:
    spec = requests.get(f"{hub.url}/openapi.json", timeout=10).json()
    assert spec["openapi"].startswith("3.") and len(spec["paths"]) >= 20
    assert spec["components"]["securitySchemes"]
    page = requests.get(hub.url.replace("/api/v1", "/api/docs"), timeout=10).text
    assert "/api/docs/assets/swagger-ui-bundle.js" in page and "cdn." not in page
    js = requests.get(hub.url.replace("/api/v1", "/api/docs/assets/swagger-ui-bundle.js"),
                      timeout=10)
    assert js.status_code == 200 and len(js.content) > 100_000


def test_https_with_the_local_ca(hub: Hub) -> None:
    ca = hub.data_dir / "tls" / "ca.pem"
    assert ca.exists()
    context = ssl.create_default_context(cafile=str(ca))
    port = hub.app.api.ports["https"]
    with urllib.request.urlopen(f"https://127.0.0.1:{port}/api/v1/health",
                                context=context, timeout=10) as resp:
        assert json.load(resp)["status"] == "ok"
    pem = requests.get(f"{hub.url}/system/ca-certificate", timeout=10)
    assert pem.status_code == 200 and pem.content == ca.read_bytes()
