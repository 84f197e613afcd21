"""``hub install-service``: the systemd unit, the service user, folders and permissions.

The unit runs the engine as a dedicated unprivileged user with ``Type=notify`` (ready
once every component started), ``WatchdogSec`` fed by the EMS loop (a stuck loop is
killed and restarted), ``Restart=always`` within seconds, a read-only system and only
the data folder writable. Logs go to the journal, rotated by journald (size capped in a
drop-in); ``--dry-run`` prints everything and changes nothing.
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run", "unit_text"]

WATCHDOG_S = 30


def unit_text(exe: str, config: str, data_dir: str, user: str) -> str:
    return f"""# Written by `hub install-service` (docs/installation.md).
[Unit]
Description=Charge hub: OCPP central system and energy manager
Wants=network-online.target time-sync.target
After=network-online.target time-sync.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={exe} run --config {config}
User={user}
Group={user}
WorkingDirectory={data_dir}
Environment=PYTHONUNBUFFERED=1
# A stuck EMS loop stops feeding the watchdog: systemd kills and restarts the engine.
WatchdogSec={WATCHDOG_S}
Restart=always
RestartSec=2
# Long enough to close the databases; short enough that charge points stay within
# their dynamic limits' validity while a new engine takes over.
TimeoutStopSec=20
ProtectSystem=strict
ProtectHome=true
PrivateTmp=true
NoNewPrivileges=true
ReadWritePaths={data_dir}
UMask=0027
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
"""


JOURNALD = """# Written by `hub install-service`: the hub logs to the journal; keep it bounded.
[Journal]
SystemMaxUse=500M
MaxRetentionSec=3month
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("install-service", help="install the systemd unit and service user")
    p.add_argument("--config", required=True, help="the hub.yaml the service runs")
    p.add_argument("--data-dir", default="/var/lib/hub")
    p.add_argument("--user", default="hub")
    p.add_argument("--unit-dir", default="/etc/systemd/system")
    p.add_argument("--dry-run", action="store_true", help="print, change nothing")


def run(args: argparse.Namespace) -> int:
    exe = shutil.which("hub") or str(Path(sys.executable).with_name("hub"))
    config = str(Path(args.config).resolve())
    unit = unit_text(exe, config, args.data_dir, args.user)
    journald = Path("/etc/systemd/journald.conf.d/hub.conf")
    unit_path = Path(args.unit_dir) / "hub.service"
    if args.dry_run:
        print(f"# {unit_path}\n{unit}\n# {journald}\n{JOURNALD}")
        return 0
    if os.geteuid() != 0:
        print("install-service needs root (or --dry-run)", file=sys.stderr)
        return 1
    try:
        pwd.getpwnam(args.user)
    except KeyError:
        subprocess.run(["useradd", "--system", "--home-dir", args.data_dir, "--shell",
                        "/usr/sbin/nologin", args.user], check=True)
    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    uid, gid = pwd.getpwnam(args.user).pw_uid, grp.getgrnam(args.user).gr_gid
    os.chown(data, uid, gid)
    data.chmod(0o750)
    Path(config).chmod(0o640)
    os.chown(config, 0, gid)  # readable by the service, written by root only
    unit_path.write_text(unit)
    journald.parent.mkdir(parents=True, exist_ok=True)
    journald.write_text(JOURNALD)
    if shutil.which("systemctl") and Path("/run/systemd/system").exists():
        subprocess.run(["systemctl", "daemon-reload"], check=True)
        subprocess.run(["systemctl", "enable", "--now", "hub.service"], check=True)
        print("hub.service enabled and started: journalctl -u hub -f")
    else:
        print(f"{unit_path} written; systemd is not running here: start it on the box")
    return 0
