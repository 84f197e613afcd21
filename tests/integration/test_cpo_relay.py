"""The hub as an OCPP proxy, against a stand-in CPO (the ``ocpp`` library) on 127.0.0.1:
a whole session relayed with the CPO's transaction ids; the CPO away before and during
sessions, then back: every message reaches it once, in order; the hub restarted
meanwhile: still nothing lost; the CPO's calls relayed but for what the hub owns; its
profile combined with the EMS's (the lower wins); a hybrid site under one limit."""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from ocpp.exceptions import OCPPError
from ocpp.v16 import call

from hub_engine.ocpp.tls import LocalCa, server_context
from hub_engine.sim.chargepoint import SimChargePoint
from hub_engine.sim.cpo import SimCpo
from hub_engine.sim.ev import EV
from tests.conftest import free_port
from tests.integration.api_fixtures import Hub

PASSWORD = "cpo-secret-for-this-cp"
SITE = """
hub: {data_dir: %s, timezone: Europe/Paris}
ocpp: {host: 127.0.0.1, ws_port: 0, wss_port: 0, tls: "off", boot_spread_s: 0,
       accept_all_id_tags: true, call_timeout_s: 5}
http: {host: 127.0.0.1, port: 0, https_port: %s}
ems: {commissioning: "off", unverified_models: trust}
ops: {clock: trust}
sites:
  - id: campus
    cpo: {url: "ws://127.0.0.1:CPO_PORT/ocpp", auth_timeout_s: 1, call_timeout_s: 3,
          reconnect_min_s: 0.2, reconnect_max_s: 0.5, refuse_commands: [Reset]}
    grid:
      id: grid
      limit_a: 63
      children:
        - id: public
          limit_a: 20
          charge_points:
            - {id: PUB1, mode: cpo, cpo_password: PASSWORD}
            - {id: PUB2, mode: cpo, cpo_password: PASSWORD}
            - {id: STAFF1}
""".replace("PASSWORD", PASSWORD)


def _until(check: Any, timeout_s: float = 15, what: str = "") -> None:
    end = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < end, f"timed out: {what}"
        time.sleep(0.05)


@pytest.fixture
def cpo_site(tmp_path: Path) -> Iterator[tuple[Path, SimCpo]]:
    port = free_port()
    (tmp_path / "hub.yaml").write_text(
        SITE.replace("CPO_PORT", str(port)) % (tmp_path, "null"))
    yield tmp_path, SimCpo(port, PASSWORD, {"GOOD", "RFID2"})


def _sim(hub: Hub, cp_id: str) -> SimChargePoint:
    cp = hub.charge_point(cp_id).cp
    assert cp is not None
    return cp


def _charge(hub: Hub, cp: SimChargePoint, tag: str, seconds: float = 2.5) -> int:
    tx = hub.call(cp.plug(1, EV(max_current_a=16, ramp_s=0.2), id_tag=tag))
    time.sleep(seconds)  # meter values every second
    hub.call(cp.unplug(1))
    return tx


def _tx_messages(cpo: SimCpo, cp_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(a, p) for c, a, _, p in cpo.log if (c == cp_id and a in (
        "StartTransaction", "StopTransaction")) or (c == cp_id and a == "MeterValues"
                                                   and "transactionId" in p)]


def _stop(hub: Hub, cpo: SimCpo) -> None:
    hub.call(cpo.stop())
    hub.stop()


@contextlib.contextmanager
def _running(data_dir: Path, cpo: SimCpo) -> Iterator[Hub]:
    """The hub on ``data_dir`` with the CPO up, both stopped after."""
    hub = Hub(data_dir)
    try:
        hub.call(cpo.start())
        yield hub
    finally:
        _stop(hub, cpo)


def _check_delivered(cpo: SimCpo, cp_id: str, sessions: int, metered: int) -> None:
    """Each session's start, meter values and stop reached the CPO once, in order, with
    the CPO's own transaction id (the first ``metered`` lasted long enough for some)."""
    msgs = _tx_messages(cpo, cp_id)
    uids = [u for c, a, u, _ in cpo.log if c == cp_id and a in ("StartTransaction",
                                                                 "StopTransaction")]
    assert len(uids) == len(set(uids)) == 2 * sessions, uids
    starts = [i for i, (a, _) in enumerate(msgs) if a == "StartTransaction"]
    assert len(starts) == sessions
    seen: set[int] = set()
    for n, i in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(msgs)
        body = msgs[i + 1:end]
        assert body[-1][0] == "StopTransaction", [a for a, _ in body]
        assert len(body) >= (2 if n < metered else 1), "meter values of the session"
        ids = {p["transactionId"] for _, p in body}
        assert len(ids) == 1, ids  # the CPO's id for this start, in all its messages
        seen |= ids
    assert len(seen) == sessions and min(seen) > 1000


def test_a_session_relayed_whole_with_the_cpos_ids(cpo_site: tuple[Path, SimCpo]
                                                   ) -> None:
    data_dir, cpo = cpo_site
    with _running(data_dir, cpo) as hub:
        tx = _charge(hub, _sim(hub, "PUB1"), "GOOD")
        _until(lambda: "StopTransaction" in cpo.actions("PUB1"), what="stop relayed")
        actions = cpo.actions("PUB1")
        assert actions[0] == "BootNotification" and "StatusNotification" in actions
        assert actions.count("Authorize") == 1 and actions.count("StartTransaction") == 1
        start_uid = next(u for c, a, u, _ in cpo.log if a == "StartTransaction")
        sent = hub.app.store.rows("SELECT message FROM ocpp_log WHERE charge_point_id = "
                                  "'PUB1' AND direction = 'in'", db="samples")
        stop = cpo.of("PUB1", "StopTransaction")[0]
        # The charge point got the hub's id; the CPO its own, in every later message.
        assert tx < 1000 and stop["transactionId"] == 1001
        assert {p["transactionId"] for p in cpo.of("PUB1", "MeterValues")} == {1001}
        # The charge point's own message id went up unchanged.
        assert any(f'"{start_uid}","StartTransaction"' in m for (m,) in sent)
        # The link's frames are kept in the OCPP log beside the charge point's.
        _until(lambda: hub.app.store.rows(
            "SELECT count(*) FROM ocpp_log WHERE charge_point_id = 'PUB1' AND direction = "
            "'from_cpo' AND message LIKE '%1001%'", db="samples")[0][0] > 0, what="journal")
        session = hub.get(f"/sessions/{tx}").json()
        assert session["charge_point"] == "PUB1" and session["stopped_at"]
        # A badge the CPO refuses: refused, and the start it let happen is stopped.
        runner = hub.charge_point("PUB2")
        cp = runner.cp
        assert cp is not None
        assert hub.call(cp.present(1, EV(max_current_a=16, ramp_s=0.2), "STRANGER")) is None
        # Vendor data is the CPO's to answer (the hub knows no vendor).
        got = hub.call(cp.call(call.DataTransfer(vendor_id="acme", data="card 42")))
        assert got.status == "Accepted" and got.data == "acme:card 42"
        # Its link to the hub drops and comes back: so does its link to the CPO, and
        # badges go to the CPO again.
        pub1 = hub.runners[0].cp
        assert pub1 is not None and pub1.config.id == "PUB1"
        hub.call(pub1._connection.close())
        time.sleep(0.5)
        _until(lambda: hub.runners[0].connected.is_set(), what="back")
        asked = cpo.actions("PUB1").count("Authorize")
        assert hub.call(pub1.call(call.Authorize(id_tag="GOOD"))).id_tag_info[
            "status"] == "Accepted"
        assert cpo.actions("PUB1").count("Authorize") == asked + 1
        # The staff charge point stays local: none of its messages reach the CPO.
        _charge(hub, _sim(hub, "STAFF1"), "ANYONE", seconds=0.5)
        assert not cpo.of("STAFF1")
        assert cpo.refused_auth == 0


def test_cpo_away_before_and_during_sessions_then_back(cpo_site: tuple[Path, SimCpo]
                                                       ) -> None:
    data_dir, cpo = cpo_site
    with _running(data_dir, cpo) as hub:
        cp = _sim(hub, "PUB1")
        _until(lambda: "BootNotification" in cpo.actions("PUB1"), what="linked")
        # A badge the CPO accepts, once, while it is there; one it lists (SendLocalList).
        assert hub.call(cp.call(call.Authorize(id_tag="GOOD"))).id_tag_info[
            "status"] == "Accepted"
        listed = hub.call(cpo.centrals["PUB1"].call(call.SendLocalList(
            list_version=3, update_type="Full", local_authorization_list=[
                {"idTag": "LISTED", "idTagInfo": {"status": "Accepted"}}])))
        assert listed.status == "Accepted"
        assert hub.call(cpo.centrals["PUB1"].call(call.GetLocalListVersion())).list_version == 3
        # The charge point's own list (for when the hub is away) is the CPO's badges.
        own = hub.app.access.lists.entries("PUB1")
        assert own == {"listed": {"status": "Accepted"}, "good": {"status": "Accepted"}}
        assert "listed" not in hub.app.access.lists.entries("STAFF1")
        hub.call(cpo.stop())  # away during the link's life
        # offline_auth cache: what the CPO accepted or listed starts; a stranger does not.
        assert hub.call(cp.present(1, EV(max_current_a=16, ramp_s=0.2), "STRANGER")) is None
        tx1 = _charge(hub, cp, "GOOD", seconds=1.5)
        tx2 = _charge(hub, cp, "LISTED", seconds=1.5)
        assert tx2 > tx1
        # Meanwhile the CPO blocked GOOD: a session it starts offline goes on until the
        # CPO hears of it, then the hub stops it.
        cpo.good_tags.discard("GOOD")
        tx3 = hub.call(cp.plug(1, EV(max_current_a=16, ramp_s=0.2), id_tag="GOOD"))
        assert cp.connectors[1].transaction_id == tx3
        assert hub.get("/cpo").json()[0]["queued"] >= 7
        hub.call(cpo.start())
        _until(lambda: cp.connectors[1].transaction_id is None, what="refused start stopped")
        assert hub.get(f"/sessions/{tx3}").json()["stop_reason"] == "Remote"
        _until(lambda: hub.get("/cpo").json()[0]["queued"] == 0, what="queue drained")
        _check_delivered(cpo, "PUB1", 3, metered=2)


def test_hub_restarted_while_the_cpo_is_away(cpo_site: tuple[Path, SimCpo]) -> None:
    data_dir, cpo = cpo_site
    with _running(data_dir, cpo) as hub:
        cp = _sim(hub, "PUB1")
        _until(lambda: "BootNotification" in cpo.actions("PUB1"), what="linked")
        hub.call(cp.call(call.Authorize(id_tag="GOOD")))  # the CPO knows it
        hub.call(cpo.stop())
        cpo.log.clear()
        _charge(hub, cp, "GOOD", seconds=1.5)
        queued = hub.get("/cpo").json()[0]["queued"]
        assert queued >= 3
    # Restarted, the charge point away too: its messages go up regardless.
    with _running(data_dir, cpo) as hub:
        _until(lambda: hub.get("/cpo").json()[0]["queued"] == 0, what="queue drained")
        _check_delivered(cpo, "PUB1", 1, metered=1)
        assert cpo.actions("PUB1")[0] == "BootNotification"  # its stored boot first


def test_cpo_calls_relayed_but_for_what_the_hub_owns(cpo_site: tuple[Path, SimCpo]
                                                     ) -> None:
    data_dir, cpo = cpo_site
    with _running(data_dir, cpo) as hub:
        runner = hub.charge_point("PUB1")
        cp = runner.cp
        assert cp is not None
        _until(lambda: "PUB1" in cpo.centrals and any(
            x["online"] for x in hub.get("/cpo").json()), what="linked")
        central = cpo.centrals["PUB1"]
        got = hub.call(central.call(call.GetConfiguration(key=["HeartbeatInterval"])))
        assert got.configuration_key and got.configuration_key[0]["key"] == "HeartbeatInterval"
        refused = hub.call(central.call(call.ChangeConfiguration(key="AuthorizationKey",
                                                                 value="x" * 20)))
        assert refused.status == "Rejected"
        assert hub.call(central.call(call.Reset(type="Hard"))).status == "Rejected"
        with pytest.raises(OCPPError):  # the CPO's malformed call: its CALLERROR
            hub.call(central.call(call.SetChargingProfile(connector_id=1,
                                                          cs_charging_profiles={"x": 1}),
                                  suppress=False, skip_schema_validation=True))
        assert hub.call(central.call(call.GetLocalListVersion())).list_version == 0
        # A CPO profile above the EMS's share: the EMS wins; below it: the CPO's.
        # Every charge point of the 20 A board connected: a silent one is counted at
        # its maximum (the EMS's safety), which would leave nothing to share.
        staff = _sim(hub, "STAFF1")
        hub.charge_point("PUB2")
        tx = hub.call(cp.plug(1, EV(max_current_a=32, ramp_s=0.2), id_tag="GOOD"))
        _until(lambda: hub.get("/cpo").json()[0]["queued"] == 0)
        cpo_tx = 1001  # the stand-in numbers from 1001
        profile = {"chargingProfileId": 7, "stackLevel": 0,
                   "chargingProfilePurpose": "TxDefaultProfile",
                   "chargingProfileKind": "Absolute",
                   "chargingSchedule": {"chargingRateUnit": "A", "startSchedule":
                                        "2020-01-01T00:00:00Z", "chargingSchedulePeriod": [
                                            {"startPeriod": 0, "limit": 32}]}}
        assert hub.call(central.call(call.SetChargingProfile(
            connector_id=0, cs_charging_profiles=profile))).status == "Accepted"
        conn = cp.connectors[1]
        _until(lambda: 19 <= cp.schedule_limit(conn) <= 20,
               what="the EMS's 20 A, not the CPO's 32 A")
        low = {**profile, "chargingProfileId": 8, "stackLevel": 1,
               "chargingSchedule": {**profile["chargingSchedule"],
                                    "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                "limit": 8}]}}
        assert hub.call(central.call(call.SetChargingProfile(
            connector_id=0, cs_charging_profiles=low))).status == "Accepted"
        _until(lambda: cp.schedule_limit(conn) <= 8.0, what="the CPO's 8 A")
        # Never sent raw: the charge point holds only the hub's own profiles.
        ids = {p.get("chargingProfileId", p.get("charging_profile_id"))
               for ps in cp.profiles.values() for p in ps}
        assert not ids & {7, 8}
        assert hub.call(central.call(call.ClearChargingProfile(id=8))).status == "Accepted"
        _until(lambda: cp.schedule_limit(conn) > 8.0, what="CPO limit lifted")
        # Hybrid: a local session beside it, one board's 20 A shared by both.
        hub.call(staff.plug(1, EV(max_current_a=32, ramp_s=0.2), id_tag="STAFF"))
        both = (conn, staff.connectors[1])
        _until(lambda: min(cp.schedule_limit(both[0]), staff.schedule_limit(both[1])) >= 6,
               what="both charging")
        assert cp.schedule_limit(both[0]) + staff.schedule_limit(both[1]) <= 20.0
        assert not cpo.of("STAFF1")
        # The CPO stops the session with its own id.
        stopped = hub.call(central.call(call.RemoteStopTransaction(transaction_id=cpo_tx)))
        assert stopped.status == "Accepted"
        _until(lambda: conn.transaction_id is None, what="stopped")
        assert hub.get(f"/sessions/{tx}").json()["stop_reason"] == "Remote"


def _client_cert(ca: LocalCa, cn: str, folder: Path) -> tuple[Path, Path]:
    """A charge point's client certificate, signed by the CPO's CA."""
    ca_key = serialization.load_pem_private_key(ca.ca_key.read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate(ca.ca_cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=9))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_file, key_file = folder / f"{cn}.pem", folder / f"{cn}-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_security_profile_3_towards_the_cpo(tmp_path: Path) -> None:
    """wss with the charge point's client certificate, held by the hub; a relayed charge
    point without one is refused by the CPO, and says why on GET /cpo."""
    ca = LocalCa(tmp_path / "cpo-ca")
    ca.ensure(["127.0.0.1"])
    cert, key = _client_cert(ca, "PUB1", tmp_path)
    tls = server_context(ca.cert, ca.key)
    tls.verify_mode = ssl.CERT_REQUIRED
    tls.load_verify_locations(ca.ca_cert)
    port = free_port()
    text = SITE.replace("CPO_PORT", str(port)).replace("ws://", "wss://").replace(
        "refuse_commands: [Reset]}", f"refuse_commands: [Reset], ca_file: {ca.ca_cert}}}"
    ).replace("{id: PUB1, mode: cpo, cpo_password: " + PASSWORD + "}",
              f"{{id: PUB1, mode: cpo, cpo_client_cert_file: {cert}, "
              f"cpo_client_key_file: {key}}}")
    (tmp_path / "hub.yaml").write_text(text % (tmp_path, "null"))
    cpo = SimCpo(port, PASSWORD, {"GOOD"}, tls=tls)
    with _running(tmp_path, cpo) as hub:
        _sim(hub, "PUB1")
        _sim(hub, "PUB2")
        _until(lambda: "BootNotification" in cpo.actions("PUB1"), what="linked over TLS")
        assert cpo.client_names == ["PUB1"]
        _until(lambda: hub.get("/cpo").json()[1]["last_error"], what="PUB2 refused")
        links = {x["charge_point_id"]: x for x in hub.get("/cpo").json()}
        assert links["PUB1"]["online"] and not links["PUB2"]["online"]
        assert not cpo.actions("PUB2")


def test_a_field_cpo_pending_refusing_and_slow(cpo_site: tuple[Path, SimCpo]) -> None:
    """A boot refused, then answered Pending: nothing else goes up before the Accepted one. A
    meter value it refuses: skipped, the rest goes on. Answers later than auth_timeout_s:
    badges decided here, the transaction still mapped once the answer comes."""
    data_dir, cpo = cpo_site
    cpo.pending_boots, cpo.refuse_next = 2, {"MeterValues": 1, "BootNotification": 1}
    with _running(data_dir, cpo) as hub:
        cp = _sim(hub, "PUB1")
        _until(lambda: hub.get("/cpo").json()[0]["online"], what="accepted at last")
        # Refused once (a CALLERROR: the link starts again), Pending twice, accepted.
        assert cpo.actions("PUB1")[:4] == ["BootNotification"] * 4
        tx1 = _charge(hub, cp, "GOOD", seconds=2.5)
        _until(lambda: hub.get("/cpo").json()[0]["queued"] == 0, what="drained")
        assert [a for _, a, _ in cpo.refused] == ["BootNotification", "MeterValues"]
        assert hub.app.cpo.dropped == 1  # logged and skipped, not retried for ever
        assert cpo.of("PUB1", "StopTransaction")[-1]["transactionId"] == 1001
        # A slow CPO: its answers come after auth_timeout_s (1 s).
        cpo.answer_delay_s = 1.3
        started = time.monotonic()
        tx2 = hub.call(cp.plug(1, EV(max_current_a=16, ramp_s=0.2), id_tag="GOOD"))
        assert time.monotonic() - started < 4  # decided here (GOOD: accepted before)
        assert cp.connectors[1].transaction_id == tx2 > tx1
        hub.call(cp.unplug(1))
        _until(lambda: hub.get("/cpo").json()[0]["queued"] == 0, timeout_s=30,
               what="drained slowly")
        assert cpo.of("PUB1", "StopTransaction")[-1]["transactionId"] == 1002
        assert hub.get(f"/sessions/{tx2}").json()["stop_reason"] != "Remote"
