"""Charge-point-initiated messages over real websockets: boot, status, a whole session."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from ocpp.v16 import call

from tests.integration.ocpp_fixtures import make_config, running_hub
from tests.ocpp_client import boot_until_accepted, connected


async def test_boot_pending_then_configured_then_accepted(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, connected(hub.url, "CP1") as cp:
        first = await cp.boot()
        assert first.status == "Pending"
        await asyncio.wait_for(cp.booted.wait(), 10)
        asked = [name for name, _ in cp.received]
        assert asked[0] == "GetConfiguration" and asked[-1] == "TriggerMessage"
        assert cp.config["HeartbeatInterval"] == "300"
        assert cp.config["MeterValueSampleInterval"] == "10"
        assert cp.config["MeterValuesSampledData"].startswith("Energy.Active.Import.Register,")
        reg, caps, conf = hub.rows(
            "SELECT registration, capabilities, configuration FROM charge_points")[0]
        assert reg == "accepted"
        caps, conf = json.loads(caps), json.loads(conf)
        assert caps["ChargeProfileMaxStackLevel"] == "8"
        assert "AuthorizationKey" not in conf and "AuthorizationKey" not in caps
        # A reboot on the same connection configures again.
        cp.received.clear()
        cp.booted.clear()
        assert (await cp.boot()).status == "Pending"
        await asyncio.wait_for(cp.booted.wait(), 10)
        # Configured first (a TriggerMessage for the boot may come before, while Pending).
        calls = [name for name, _ in cp.received if name != "TriggerMessage"]
        assert calls[0] == "GetConfiguration"


@pytest.mark.parametrize(("refuses", "max_length", "expected"), [
    # Firmware that refuses a whole list for one measurand it does not know: the others
    # are kept, in order (the read-back of the limit is lost, nothing else).
    ("Current.Offered", None, "Energy.Active.Import.Register,Power.Active.Import,"
     "Current.Import,Voltage,SoC"),
    # A short list: the most important measurands, within MeterValuesSampledDataMaxLength.
    ("", "4", "Energy.Active.Import.Register,Power.Active.Import,Current.Import,"
     "Current.Offered"),
    # Says nothing of its length but takes two at most: the first two.
    ("", "two", "Energy.Active.Import.Register,Power.Active.Import"),
])
async def test_measurands_probed_one_by_one(tmp_path: Path, refuses: str,
                                            max_length: str | None, expected: str) -> None:
    async with running_hub(make_config(tmp_path)) as hub, connected(hub.url, "CP1") as cp:
        original = cp.on_change_configuration
        if max_length is not None and max_length.isdigit():
            cp.config["MeterValuesSampledDataMaxLength"] = max_length

        def picky(key: str, value: str):  # type: ignore[no-untyped-def]
            items = value.split(",")
            if key == "MeterValuesSampledData" and (
                    (refuses and refuses in items) or (max_length == "two" and len(items) > 2)):
                cp.received.append(("ChangeConfiguration", {"key": key, "value": value}))
                from ocpp.v16 import call_result
                return call_result.ChangeConfiguration(status="Rejected")
            return original(key, value)

        cp.route_map["ChangeConfiguration"]["_on_action"] = picky
        await boot_until_accepted(cp)
        assert cp.config["MeterValuesSampledData"] == expected
        caps = json.loads(hub.rows("SELECT capabilities FROM charge_points")[0][0])
        assert caps["MeterValuesSampledData"] == expected


@pytest.mark.parametrize(("policy", "expected", "registration"), [
    ("pending", "Pending", "pending"), ("reject", "Rejected", "rejected"),
    ("accept", "Pending", "accepted"),  # accepted, then configured like any other
])
async def test_unknown_charge_point_policy(tmp_path: Path, policy: str, expected: str,
                                           registration: str) -> None:
    config = make_config(tmp_path, unknown_charge_points=policy)
    async with running_hub(config) as hub, connected(hub.url, "STRANGER") as cp:
        assert (await cp.boot()).status == expected
        # A refused id is counted, not stored (random ids must not fill the disk).
        assert hub.rows("SELECT registration FROM charge_points WHERE id='STRANGER'") == (
            [] if policy == "reject" else [(registration,)])
        if policy == "pending":
            await asyncio.sleep(0.3)
            assert cp.received == []  # not configured before an operator approves it


async def test_whole_session_with_odd_meter_values(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, connected(hub.url, "CP1") as cp:
        await boot_until_accepted(cp)
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                              status="Preparing"))
        assert hub.rows("SELECT status FROM connectors") == [("Preparing",)]
        auth = await cp.call(call.Authorize(id_tag="tag-ok"))  # idTags are case-insensitive
        assert auth.id_tag_info["status"] == "Accepted"
        bad = await cp.call(call.Authorize(id_tag="NOPE"))
        assert bad.id_tag_info["status"] == "Invalid"
        start = await cp.call(call.StartTransaction(
            connector_id=1, id_tag="TAG-OK", meter_start=1000,
            timestamp="2026-11-29T10:00:00Z"))
        tx = start.transaction_id
        # Committed before the answer went out: a reader sees it right away.
        assert hub.rows("SELECT id, meter_start_wh FROM transactions") == [(tx, 1000)]
        await cp.call(call.MeterValues(connector_id=1, transaction_id=tx, meter_value=[{
            "timestamp": "2026-11-29T10:00:10Z",
            "sampledValue": [
                {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
                {"value": "1.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh",
                 "phase": "L1"},
                {"value": "16.1", "measurand": "Current.Import", "unit": "A", "phase": "L1-N"},
                {"value": "15.9", "measurand": "Current.Import.L2", "unit": "A"},
                {"value": "", "measurand": "Voltage", "unit": "V", "phase": "L1-N"},
            ]}]), skip_schema_validation=True)
        samples = hub.rows(
            "SELECT measurand, phase, unit, value FROM samples JOIN series ON series.id ="
            " samples.series_id ORDER BY measurand, phase", db="samples")
        assert samples == [
            ("Current.Import", "L1", "A", 16.1), ("Current.Import", "L2", "A", 15.9),
            ("Energy.Active.Import.Register", "", "Wh", 1500.0),
            ("Power.Active.Import", "", "W", 7400.0),
        ]
        await cp.call(call.StopTransaction(meter_stop=9000, timestamp="2026-11-29T11:00:00Z",
                                           transaction_id=tx, reason="Local"))
        assert hub.rows("SELECT energy_wh, stop_reason, orphan FROM transactions") == \
            [(8000, "Local", 0)]


async def test_unknown_stop_transaction_is_accepted_and_kept(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, connected(hub.url, "CP1") as cp:
        await boot_until_accepted(cp)
        resp = await cp.call(call.StopTransaction(meter_stop=500, transaction_id=-1,
                                                  timestamp="2026-11-29T11:00:00Z",
                                                  id_tag="TAG-OK"))
        assert resp.id_tag_info["status"] == "Accepted"
        assert hub.rows("SELECT reported_id, orphan, meter_stop_wh FROM transactions") == \
            [(-1, 1, 500)]


async def test_resent_start_transaction_gets_the_same_id(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, connected(hub.url, "CP1") as cp:
        await boot_until_accepted(cp)
        req = call.StartTransaction(connector_id=1, id_tag="TAG-OK", meter_start=5,
                                    timestamp="2026-11-29T10:00:00Z")
        a = await cp.call(req)
        b = await cp.call(req)
        assert a.transaction_id == b.transaction_id
        assert hub.rows("SELECT count(*) FROM transactions") == [(1,)]


async def test_transaction_ids_increase_across_restarts(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    ids = []
    for minute in range(3):
        async with running_hub(config) as hub, connected(hub.url, "CP1") as cp:
            resp = await cp.call(call.StartTransaction(
                connector_id=1, id_tag="TAG-OK", meter_start=0,
                timestamp=f"2026-11-29T10:0{minute}:00Z"))
            ids.append(resp.transaction_id)
    assert ids == sorted(ids) and len(set(ids)) == 3


async def test_every_other_message_is_answered_and_stored(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, connected(hub.url, "CP1") as cp:
        await boot_until_accepted(cp)
        hb = await cp.call(call.Heartbeat())
        assert hb.current_time.endswith("Z")
        dt = await cp.call(call.DataTransfer(vendor_id="com.example", data="x"))
        assert dt.status == "UnknownVendorId"
        await cp.call(call.FirmwareStatusNotification(status="Downloading"))
        await cp.call(call.DiagnosticsStatusNotification(status="Uploaded"))
        assert hub.rows("SELECT firmware_status, diagnostics_status FROM charge_points") == \
            [("Downloading", "Uploaded")]
        await hub.store.journal.flush()  # the journal is written in batches
        topics = {t for (t,) in hub.rows("SELECT topic FROM events", db="samples")}
        assert {"event.cp.CP1.data_transfer", "event.cp.CP1.firmware_status",
                "event.cp.CP1.boot"} <= topics
        logged = hub.rows("SELECT direction, count(*) FROM ocpp_log GROUP BY direction",
                          db="samples")
        assert dict(logged)["in"] >= 5 and dict(logged)["out"] >= 5


async def test_operator_approves_a_pending_charge_point(tmp_path: Path) -> None:
    import subprocess
    import sys
    config = make_config(tmp_path, unknown_charge_points="pending")
    cfg_file = tmp_path / "hub.yaml"
    cfg_file.write_text(f"hub: {{data_dir: {tmp_path}}}\n"
                        "sites: [{id: s, grid: {id: g, limit_a: 63}}]\n")
    hub_cmd = [sys.executable, "-m", "hub_engine"]
    async with running_hub(config) as hub, connected(hub.url, "NEWCOMER") as cp:
        assert (await cp.boot()).status == "Pending"
        listing = subprocess.run([*hub_cmd, "charge-points", "--config", str(cfg_file)],
                                 capture_output=True, text=True, check=True).stdout
        assert "NEWCOMER" in listing and "pending" in listing
        out = subprocess.run([*hub_cmd, "approve", "NEWCOMER", "--config", str(cfg_file)],
                             capture_output=True, text=True, check=True).stdout
        assert "accepted at its next BootNotification" in out
        await boot_until_accepted(cp)  # configured first, then accepted
        assert cp.received[0][0] == "GetConfiguration"
        missing = subprocess.run([*hub_cmd, "approve", "GHOST", "--config", str(cfg_file)],
                                 capture_output=True, text=True, check=False)
        assert missing.returncode == 1 and "GHOST" in missing.stderr
