"""Every label the web pages use exists in English and in French (a missing key would
show its raw name, e.g. ``members.saved``, to a French operator)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hub_engine.ocpp.commands import COMMANDS
from hub_engine.ui import STATIC_DIR

# Keys are written "family.name"; these families are looked up with a computed name.
_KEY = re.compile(r'"((?:[a-z]+)\.[a-z_.]+)"')
_STATUSES = ("Available", "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE",
             "Finishing", "Reserved", "Unavailable", "Faulted", "offline")


def _strings() -> dict[str, dict[str, str]]:
    node = shutil.which("node") or str(Path("node_modules/.bin/node").resolve())
    src = (STATIC_DIR / "i18n.js").read_text()
    script = ("const m = await import('data:text/javascript,' + encodeURIComponent("
              f"{json.dumps(src)})); console.log(JSON.stringify(m.STRINGS));")
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True,
                         text=True, timeout=30, check=True)
    return dict(json.loads(out.stdout))


@pytest.fixture(scope="module")
def strings() -> dict[str, dict[str, str]]:
    return _strings()


def test_english_and_french_have_the_same_keys(strings: dict[str, dict[str, str]]) -> None:
    en, fr = set(strings["en"]), set(strings["fr"])
    assert not en - fr, f"missing in French: {sorted(en - fr)}"
    assert not fr - en, f"missing in English: {sorted(fr - en)}"


def test_every_key_the_pages_use_is_there(strings: dict[str, dict[str, str]]) -> None:
    families = {k.split(".")[0] for k in strings["en"]}
    used: set[str] = set()
    for page in STATIC_DIR.glob("*.js"):
        if page.name == "i18n.js":
            continue
        used |= {k for k in _KEY.findall(page.read_text()) if k.split(".")[0] in families}
    used |= {k[len('data-t="'):-1] for k in re.findall(r'data-t="[^"]+"',
                                                       (STATIC_DIR / "index.html").read_text())}
    used |= {f"status.{s}" for s in _STATUSES}
    used |= {f"cmd.{name}" for name, spec in COMMANDS.items()
             if spec.role != "engine" and name in ("remote_start", "remote_stop", "reset",
                                                    "unlock_connector", "reserve_now",
                                                    "cancel_reservation", "trigger_message",
                                                    "change_availability")}
    used |= {f"outcome.{o}" for o in ("accepted", "rejected", "not_supported", "offline",
                                      "timed_out", "error")}
    missing = sorted(k for k in used if k not in strings["en"])
    assert not missing, f"keys used by the pages but not defined: {missing}"
    assert len(used) > 150  # the scan itself found the pages' keys
