"""Firmware campaigns for real: a file uploaded through the API, offered through the hub's
FTP server, downloaded by simulated charge points over TCP on 127.0.0.1 (``ftplib``),
paced by the campaign's concurrency, a failed download tried again, a charge point out of
tries failed, the new version seen in the next BootNotification."""

from __future__ import annotations

import ftplib
import io
import time
from typing import Any

import pytest
import requests

from tests.integration.api_fixtures import Hub, hub_fixture, site

FTP = ("maintenance: {max_firmware_mb: 1, ftp: {enabled: true, host: 127.0.0.1, port: 0}}\n")
FIRMWARE = bytes(range(256)) * 1200  # 300 kB


hub = hub_fixture(site(more=FTP))


def _upload(hub: Hub, name: str, data: bytes, role: str = "admin") -> Any:
    return requests.post(f"{hub.url}/firmware", params={"name": name}, data=data, timeout=30,
                         headers={**hub.auth(role), "Content-Type": "application/octet-stream"})


def _follow(hub: Hub, cid: int, timeout_s: float = 60) -> tuple[dict[str, Any], int]:
    """The campaign once done, and the most charge points seen under way at once."""
    most, end = 0, time.monotonic() + timeout_s
    while True:
        c = hub.get(f"/firmware/campaigns/{cid}").json()
        busy = sum(1 for t in c["targets"] if t["status"] in (
            "sent", "Downloading", "Downloaded", "Installing"))
        most = max(most, busy)
        if c["state"] == "done" or time.monotonic() > end:
            return c, most
        time.sleep(0.1)


def test_a_campaign_paced_with_a_failed_download_tried_again(hub: Hub) -> None:
    cp1, cp2 = hub.charge_point("CP1"), hub.charge_point("CP2")
    assert cp1.cp is not None and cp2.cp is not None
    cp1.cp.firmware_fail_downloads = 1
    up = _upload(hub, "sim-2.0.bin", FIRMWARE)
    assert up.status_code == 201, up.text
    fw = up.json()
    assert fw["size_bytes"] == len(FIRMWARE) and fw["uploaded_by"] == "admin"
    assert _upload(hub, "sim-2.0.bin", FIRMWARE).json()["id"] == fw["id"]  # same file
    made = hub.send("POST", "/firmware/campaigns", json={
        "firmware_id": fw["id"], "node": "parking", "concurrency": 1, "retries": 1,
        "retry_interval_s": 10})
    assert made.status_code == 201, made.text
    c, most = _follow(hub, made.json()["id"])
    assert c["state"] == "done" and c["summary"] == {"Installed": 2}, c
    assert most == 1  # one at a time, as asked
    by = {t["charge_point_id"]: t for t in c["targets"]}
    assert by["CP1"]["attempts"] == 2 and by["CP2"]["attempts"] == 1
    assert by["CP1"]["firmware_before"] == "1.0.0"
    assert by["CP1"]["firmware_after"] == by["CP2"]["firmware_after"] == "sim-2.0.bin"
    assert cp1.cp.firmware_installed == [("sim-2.0.bin", len(FIRMWARE))]  # every byte
    cps = {r["id"]: r for r in hub.get("/charge-points").json()}
    assert cps["CP2"]["firmware"] == "sim-2.0.bin"


def test_out_of_tries_fails_and_the_rest_is_refused_in_words(hub: Hub) -> None:
    cp2 = hub.charge_point("CP2")
    assert cp2.cp is not None
    cp2.cp.firmware_fail_downloads = 5
    fw = _upload(hub, "sim-2.1.bin", FIRMWARE[:1000]).json()
    made = hub.send("POST", "/firmware/campaigns", json={
        "firmware_id": fw["id"], "charge_points": ["CP2"], "retries": 0})
    c, _ = _follow(hub, made.json()["id"])
    target = c["targets"][0]
    assert c["summary"] == {"failed": 1}
    assert target["attempts"] == 1 and target["error"] == "DownloadFailed"
    # Refused, with the reason.
    assert _upload(hub, "../x.bin", b"x").status_code == 400
    assert _upload(hub, "big.bin", b"0" * (1024 * 1024 + 1)).status_code == 413
    assert _upload(hub, "x.bin", b"x", role="operator").status_code == 403
    bad = hub.send("POST", "/firmware/campaigns", json={"firmware_id": fw["id"]})
    assert bad.status_code == 422 and "charge_points, model or node" in bad.text
    bad = hub.send("POST", "/firmware/campaigns", json={"firmware_id": 999,
                                                        "charge_points": ["CP1"]})
    assert bad.status_code == 400 and "no firmware 999" in bad.text
    bad = hub.send("POST", "/firmware/campaigns", json={"firmware_id": fw["id"],
                                                        "charge_points": ["NOPE"]})
    assert bad.status_code == 400 and "NOPE" in bad.text
    assert hub.get("/firmware/campaigns", role="operator").status_code == 200
    assert hub.send("POST", "/firmware/campaigns", role="operator",
                    json={}).status_code == 403


def test_the_firmware_offered_is_read_only_over_ftp(hub: Hub) -> None:
    ftp = hub.app.ftp
    password = ftp.ticket("CP1")
    with ftplib.FTP(timeout=10) as client:
        client.connect("127.0.0.1", ftp.port)
        client.login("CP1", password)
        assert "sim-2.0.bin" in client.nlst("firmware")
        with pytest.raises(ftplib.error_perm, match="550"):
            client.storbinary("STOR firmware/sim-2.0.bin", io.BytesIO(b"tampered"))
    stored = next(p for p in (hub.data_dir / "firmware").rglob("sim-2.0.bin"))
    assert stored.read_bytes() == FIRMWARE
