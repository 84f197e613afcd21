"""EMS test sites: :mod:`hub_engine.sim.closed_loop` with fast timings."""

from __future__ import annotations

from pathlib import Path

from hub_engine.config import HubConfig, parse_config
from hub_engine.sim.closed_loop import running_site

__all__ = ["EMS_FAST", "REACTION_S", "running_site", "site_config"]

# Fast timings: cycle 0.5 s, a limit confirmed 2 s after Accepted, profiles valid 6 s.
EMS_FAST = ("ems: {cycle_s: 0.5, non_ev_window_s: 5, ramp_credit_s: 5, min_on_s: 3,"
            " min_off_s: 3, confirm_settle_s: 2, meter_timeout_s: 2, ignore_after_s: 4,"
            " profile_validity_s: 6, commissioning: \"off\", unverified_models: trust,"
            " commissioning_test_s: 2, self_check: true}")
HEAD = ("hub: {data_dir: %s}\nocpp: {host: 127.0.0.1, ws_port: 0, tls: \"off\","
        " boot_spread_s: 0, accept_all_id_tags: true, call_timeout_s: 5}\nhttp: {port: 0}\n")
# The reaction window of these tests: cycle 0.5 + apply 1 + ramp 1 s, with slack.
REACTION_S = 5.0


def site_config(tmp_path: Path, body: str, ems: str = EMS_FAST) -> HubConfig:
    return parse_config(HEAD % tmp_path + ems + "\n" + body)
