"""Diagnostics through the built-in FTP server, for real: the REST call sends
GetDiagnostics with the hub's own FTP location, the simulated charge point uploads a file
with ftplib over TCP on 127.0.0.1, its status notifications and the file's arrival are
tracked, and the file is downloaded from the API byte for byte."""

from __future__ import annotations

import ftplib
import hashlib
import io
import time
from typing import Any

import pytest

from hub_engine.sim.cp_maintenance import ftp_upload
from tests.integration.api_fixtures import Hub, hub_fixture, site

FTP = "maintenance: {ftp: {enabled: true, host: 127.0.0.1, port: 0, max_upload_mb: 0.05}}\n"


hub = hub_fixture(site(more=FTP))


def _until(hub: Hub, row_id: int, status: str, timeout_s: float = 20) -> dict[str, Any]:
    end = time.monotonic() + timeout_s
    while True:
        row = hub.get(f"/diagnostics/{row_id}").json()
        if row["status"] == status or time.monotonic() > end:
            return row  # type: ignore[no-any-return]
        time.sleep(0.2)


def test_diagnostics_are_uploaded_over_ftp_and_downloaded_from_the_api(hub: Hub) -> None:
    runner = hub.charge_point("CP1")
    asked = hub.send("POST", "/charge-points/CP1/diagnostics", json={})
    assert asked.status_code == 201, asked.text
    row = asked.json()
    # Its status notifications may already have moved it on.
    assert row["status"] in ("accepted", "Uploading", "Uploaded", "received"), row
    assert row["requested_by"] == "admin"
    assert row["file_name"] == "CP1-diagnostics.log"
    got = _until(hub, row["id"], "received")
    assert got["status"] == "received" and got["size_bytes"] == 4096, got
    file = hub.get(f"/diagnostics/{row['id']}/file")
    assert file.status_code == 200
    assert len(file.content) == 4096 and b"CP1 connector 1" in file.content
    assert hashlib.sha256(file.content).hexdigest() == got["sha256"]
    assert "attachment" in file.headers["Content-Disposition"]
    # Out of the charge point's reach: nothing is left in its FTP directory.
    assert not [p for p in (hub.data_dir / "ftp" / "CP1").iterdir() if p.is_file()]
    # The password went out in the location: the message log keeps it masked.
    logged = hub.app.store.rows("SELECT message FROM ocpp_log WHERE action = "
                                "'GetDiagnostics'", db="samples")
    calls = [m for (m,) in logged if m.startswith("[2")]
    assert calls and all('"ftp://CP1:***@' in m for m in calls), calls
    assert runner.cp is not None and runner.cp.diagnostics_uploaded


def test_a_failed_upload_is_reported_and_roles_are_enforced(hub: Hub) -> None:
    runner = hub.charge_point("CP2")
    assert runner.cp is not None
    runner.cp.diagnostics_fail = True
    row = hub.send("POST", "/charge-points/CP2/diagnostics", json={}).json()
    assert _until(hub, row["id"], "UploadFailed")["status"] == "UploadFailed"
    assert hub.get(f"/diagnostics/{row['id']}/file").status_code == 404
    assert hub.send("POST", "/charge-points/CP2/diagnostics", role="operator",
                    json={}).status_code == 403
    assert hub.get("/diagnostics", role="operator").status_code == 403
    assert hub.send("POST", "/charge-points/NOPE/diagnostics", json={}).status_code == 404
    assert hub.get("/diagnostics/99999").status_code == 404
    listed = hub.get("/diagnostics", params={"charge_point_id": "CP2"}).json()
    assert [r["id"] for r in listed][:1] == [row["id"]]


def test_the_ftp_server_lets_a_charge_point_in_only_as_itself_and_caps_uploads(
        hub: Hub) -> None:
    ftp = hub.app.ftp
    password = ftp.ticket("CP1")
    base = f"ftp://CP1:{password}@127.0.0.1:{ftp.port}/"
    with pytest.raises(ftplib.error_perm, match="530"):  # CP2 with CP1's password
        ftp_upload(base.replace("CP1:", "CP2:"), "x.log", b"x")
    with pytest.raises(ftplib.error_perm, match="530"):  # a guessed password
        ftp_upload(f"ftp://CP1:guess@127.0.0.1:{ftp.port}/", "x.log", b"x")
    with ftplib.FTP(timeout=10) as client:
        client.connect("127.0.0.1", ftp.port)
        client.login("CP1", password)
        # Its own directory is its root: a path out of it stays in it.
        client.storbinary("STOR ../../escape.log", io.BytesIO(b"inside"))
        with pytest.raises(ftplib.error_perm, match="550"):
            client.delete("escape.log")  # no deleting
        with pytest.raises(ftplib.error_perm, match="550"):
            client.mkd("more")
        # Above max_upload_mb (50 kB here) the upload is cut and nothing kept.
        with pytest.raises((ftplib.Error, OSError, EOFError)):
            client.storbinary("STOR big.log", io.BytesIO(b"0" * 200_000))
    assert not (hub.data_dir / "escape.log").exists()
    time.sleep(0.5)
    assert not (hub.data_dir / "ftp" / "CP1" / "big.log").exists()
    unasked = [r for r in hub.get("/diagnostics").json() if r["file_name"] == "escape.log"]
    assert unasked and unasked[0]["status"] == "received"  # kept, as sent unasked
