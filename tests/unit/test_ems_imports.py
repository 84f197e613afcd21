"""The allocation core stays free of protocol and device libraries."""

import subprocess
import sys


def test_ems_imports_neither_ocpp_nor_pymodbus() -> None:
    code = ("import sys, hub_engine.ems, hub_engine.ems.loop, hub_engine.ems.apply; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('ocpp', 'pymodbus', 'websockets', 'zmq', 'flask')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
