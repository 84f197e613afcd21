"""Alerts on a whole hub: a fault, a charge point off the network, a stuck meter, a failed
backup and a full disk are each raised once, e-mailed through a real SMTP server, published
on the bus, acknowledged by an operator, cleared when the condition ends, and neither lost
nor repeated across a restart."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from hub_engine.sim.ev import EV
from hub_engine.sim.quirks import Quirk
from tests.integration.api_fixtures import Hub, site
from tests.integration.smtp_fixtures import smtp_server

OPS = "ops@site.example"


def _until(check: Callable[[], Any], timeout_s: float = 20) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _alerts(hub: Hub, **query: Any) -> list[dict[str, Any]]:
    resp = hub.get("/alerts", params=query)
    assert resp.status_code == 200, resp.text
    return list(resp.json())


def test_alerts_are_raised_once_mailed_acknowledged_cleared_and_kept(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as smtp:
        more = smtp.config() + (
            f"alerts: {{check_interval_s: 3600, offline_after_s: 1, stalled_after_s: 2, "
            f"email_to: [{OPS}]}}\n")
        (tmp_path / "hub.yaml").write_text(site(more=more) % (tmp_path, "null"))
        hub = Hub(tmp_path)
        try:
            check = lambda: hub.call(hub.app.alerts.check())  # noqa: E731
            faulty = hub.charge_point("CP1")
            assert faulty.cp is not None
            # A fault as the firmware reports it: raised at the next check, once.
            hub.call(faulty.cp.fault(1, "GroundFailure", vendor_error_code="E-042",
                                     info="RCD tripped"))
            _until(lambda: hub.app.ems.ports()["CP1/1"].state().status == "Faulted")
            check()
            check()
            [alert] = _alerts(hub, active=True)
            assert (alert["kind"], alert["target"], alert["severity"]) == (
                "cp_faulted", "CP1/1", "critical")
            assert alert["message"] == "CP1/1: fault GroundFailure (vendor code E-042) RCD tripped"
            mail = _until(lambda: smtp.received)[0]
            assert mail["To"] == OPS and "critical" in mail["Subject"]
            assert "GroundFailure" in mail["Subject"] and smtp.logins == ["hub@site.example"]
            # In French for a French operator; acknowledged once, by the first operator.
            fr = requests.get(f"{hub.url}/alerts", timeout=10, params={"active": "true"},
                              headers={**hub.auth("reader"), "Accept-Language": "fr"}).json()
            assert fr[0]["message"] == ("CP1/1 : défaut GroundFailure (code constructeur "
                                        "E-042) RCD tripped")
            assert hub.send("POST", f"/alerts/{alert['id']}/ack", "reader").status_code == 403
            acked = hub.send("POST", f"/alerts/{alert['id']}/ack", "operator").json()
            assert acked["acked_by"] == "operator" and acked["cleared_at"] is None
            again = hub.send("POST", f"/alerts/{alert['id']}/ack", "admin").json()
            assert again["acked_by"] == "operator"
            assert hub.send("POST", "/alerts/999/ack", "operator").status_code == 404
            assert hub.send("POST", f"/alerts/{2**70}/ack", "operator").status_code == 404
            # The fault goes: cleared, and said by e-mail.
            conn = faulty.cp.connectors[1]
            hub.call(faulty.cp.status(conn, "Available"))
            _until(lambda: hub.app.ems.ports()["CP1/1"].state().status == "Available")
            check()
            assert _alerts(hub, active=True) == []
            assert _alerts(hub)[0]["cleared_at"] is not None
            _until(lambda: len(smtp.received) == 2)
            assert "cleared" in smtp.received[1]["Subject"]
            # A stuck meter: "Charging" with current, the register never moves.
            stuck = hub.charge_point("CP2", quirks=frozenset({Quirk.FROZEN_ENERGY_REGISTER}))
            assert stuck.cp is not None
            hub.call(stuck.cp.plug(1, EV(max_current_a=16, ramp_s=0.5), id_tag="CAR"))
            _until(lambda: hub.app.ems.ports()["CP2/1"].state().status == "Charging")
            time.sleep(1.5)  # two meter values, the same register
            check()
            time.sleep(2.1)
            check()
            assert [(a["kind"], a["target"]) for a in _alerts(hub, active=True)] == [
                ("session_stalled", "CP2/1")]
            # Off the network for longer than offline_after_s: raised; back: cleared.
            hub.call(faulty.drop_link(30))
            _until(lambda: not hub.app.ems.ports()["CP1/1"].state().online)
            check()
            assert "cp_offline" not in {a["kind"] for a in _alerts(hub, active=True)}
            time.sleep(1.1)
            check()
            assert "cp_offline" in {a["kind"] for a in _alerts(hub, active=True)}
            raised = _until(lambda: len(smtp.received) == 4 and 4)  # fault, its end, 2 more
            offline = {a["target"]: a["id"] for a in _alerts(hub, active=True)
                       if a["kind"] == "cp_offline"}
        finally:
            hub.stop()
        # A restart: the alerts in force are still there, none raised a second time. (The
        # stuck session is no longer seen charging: that one ends.)
        hub = Hub(tmp_path)
        try:
            hub.call(hub.app.alerts.check())
            active = {(a["kind"], a["target"]): a["id"] for a in _alerts(hub, active=True)}
            assert active[("cp_offline", "CP1")] == offline["CP1"]
            assert len(_alerts(hub, kind="cp_faulted")) == 1
            time.sleep(0.5)
            assert all("cleared" in m["Subject"] for m in smtp.received[raised:]), [
                m["Subject"] for m in smtp.received]
        finally:
            hub.stop()


def test_a_failed_backup_and_a_full_disk_are_alerted_and_published(tmp_path: Path) -> None:
    import json

    import zmq

    not_a_folder = tmp_path / "usb"
    not_a_folder.write_text("the key is not mounted")
    more = (f"store: {{backup_dir: {not_a_folder}}}\n"
            "alerts: {check_interval_s: 3600, disk_free_min_pct: 99.99}\n")
    (tmp_path / "hub.yaml").write_text(site(more=more) % (tmp_path, "null"))
    hub = Hub(tmp_path)
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    try:
        sub.connect(hub.app.bus.pub_endpoint)
        sub.setsockopt(zmq.SUBSCRIBE, b"alerts.")
        time.sleep(0.3)  # the subscription reaches the publisher
        assert hub.send("POST", "/system/backups").status_code == 202
        _until(lambda: any(a["kind"] == "backup_failed" for a in _alerts(hub, active=True)))
        hub.call(hub.app.alerts.check())
        disk = [a for a in _alerts(hub, active=True) if a["kind"] == "disk_low"]
        assert disk and disk[0]["target"] == str(tmp_path)
        topics = []
        while sub.poll(2000):
            topic, body = sub.recv_multipart()
            topics.append((topic.decode(), json.loads(body)["data"]["kind"]))
            if len(topics) == 2:
                break
        assert sorted(topics) == [("alerts.raised", "backup_failed"),
                                  ("alerts.raised", "disk_low")]
        # The key is back: the next backup clears the alert.
        not_a_folder.unlink()
        assert hub.send("POST", "/system/backups").status_code == 202
        _until(lambda: not any(a["kind"] == "backup_failed"
                               for a in _alerts(hub, active=True)))
    finally:
        sub.close(0)
        ctx.term()
        hub.stop()


def test_the_mail_settings_and_a_test_send_over_starttls(tmp_path: Path) -> None:
    with smtp_server(tmp_path, starttls=True) as smtp:
        (tmp_path / "hub.yaml").write_text(
            site(more=smtp.config("starttls")) % (tmp_path, "null"))
        hub = Hub(tmp_path)
        try:
            settings = hub.get("/system/mail").json()
            assert settings["configured"] and settings["security"] == "starttls"
            assert settings["password_set"] and "password" not in settings
            assert "mail-password-for-tests" not in hub.get("/system/mail").text
            assert hub.send("POST", "/system/mail/test", json={"to": OPS}).json() == {
                "sent": True}
            assert smtp.received[0]["To"] == OPS and smtp.logins == ["hub@site.example"]
            assert hub.send("POST", "/system/mail/test", "operator",
                            json={"to": OPS}).status_code == 403
            assert hub.send("POST", "/system/mail/test", json={"to": "nope"}).status_code == 422
        finally:
            hub.stop()
    # The server is gone: the refusal comes back in words.
    hub = Hub(tmp_path)
    try:
        resp = hub.send("POST", "/system/mail/test", json={"to": OPS})
        assert resp.status_code == 502
        assert resp.json()["error"]["message"].startswith(f"mail to {OPS} not sent:")
    finally:
        hub.stop()
