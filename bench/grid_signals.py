"""Grid signals in simulated days, the hub's real signal services driving its real EMS on
a fake clock (bench/quality_sim.py): no HTTP, the slots and colours are given, the rest
(each service's minute or slot-boundary tick, the external limits, the allocation, the
charge points' pilots, the cars) is what runs on a site.

- **EDF-SEI (ZNI), the island of SITES.md**: unfavourable 11:00–13:00 and 18:00–21:00
  (its evening peak), visitors charging by day. Per unfavourable run: the seconds from
  its start until every connector's pilot is at most half its rating, and the highest
  power a charge point drew in an unfavourable slot once the reaction window
  (``ems.reaction_window_s``, 15 s) is over (Advenir: at most 3.7 kVA).
- **Tempo, the office**: Monday blue, Tuesday red, Wednesday white; the rule of a red day
  limits the grid connection to 150 A from 06:00 to 22:00. The highest import each day,
  the time above 150 A on the red day (in all and in a row: a building load step is
  followed within the reaction window) and the energy charged each day.

Run: ``python -m bench.grid_signals [--step 1]`` (about 5 min); writes
bench/results/grid_signals.json and grid_signals.png.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bench.quality_sim import Week, simulate_week
from hub_engine.config import HubConfig, parse_config
from hub_engine.ems.loop import EmsLoop
from hub_engine.signals.service import SignalService
from hub_engine.signals.tempo_service import TempoService
from hub_engine.signals.zni import SLOT

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PARIS = ZoneInfo("Europe/Paris")
UNFAVOURABLE = ((11, 13), (18, 21))  # local hours
TEMPO = {0: "BLUE", 1: "RED", 2: "WHITE"}  # day of the run → colour
RED_LIMIT_A = 150.0


def _config(site: str, signals: dict[str, Any]) -> HubConfig:
    data = yaml.safe_load((ROOT / "hub_engine" / "sim" / "sites" / f"{site}.yaml").read_text())
    data["signals"] = signals
    data["ems"] = {**data.get("ems", {}), "commissioning": "off", "unverified_models": "trust"}
    return parse_config(yaml.safe_dump(data), base_dir=ROOT)


class _Zni:
    """The ZNI service on the simulated clock, and what the cars did in its slots."""

    def __init__(self, config: HubConfig, start: datetime) -> None:
        self.config, self.start = config, start
        self.svc: SignalService | None = None
        self.next_tick = 0.0
        self.runs: list[dict[str, Any]] = []
        self.max_cp_w = 0.0
        self.rated = {cp.id: cp.max_current_a for cp in config.charge_points()}

    def slots(self, day: date) -> dict[datetime, int]:
        out = {}
        t = datetime.combine(day, datetime.min.time(), PARIS)
        while t.date() == day:
            out[t] = 0 if any(a <= t.hour < b for a, b in UNFAVOURABLE) else 1
            t += SLOT
        return out

    def __call__(self, run: Any, loop: EmsLoop, t: float) -> None:
        if self.svc is None:
            self.svc = SignalService(self.config, None, loop.clock)  # type: ignore[arg-type]
            self.svc.ems = loop
            for d in range(3):
                self.svc.slots.update(self.slots((self.start + timedelta(days=d)).date()))
        if t >= self.next_tick:  # as its loop would: at each slot boundary (+0.5 s)
            self.svc.apply()
            self.next_tick = t + self.svc.tick_s()
        local = self.start + timedelta(seconds=t)
        bad = any(a <= local.hour < b for a, b in UNFAVOURABLE)
        if bad and (not self.runs or self.runs[-1]["end_s"] is not None):
            self.runs.append({"start": local.isoformat(timespec="minutes"), "t0": t,
                              "cut_after_s": None, "end_s": None})
        if not bad and self.runs and self.runs[-1]["end_s"] is None:
            self.runs[-1]["end_s"] = t
        if bad:
            charging = [c for c in run.conns.values() if c.ev is not None]
            cur = self.runs[-1]
            if cur["cut_after_s"] is None and all(
                    c.pilot_a <= self.rated[c.cp_id] / 2 + 1e-6 for c in charging):
                cur["cut_after_s"] = round(t - cur["t0"], 1)
            # Past the reaction window (the cars follow their pilot in about 5 s): what a
            # point really draws, as the Advenir evidence counts it.
            if t - cur["t0"] >= self.config.ems.reaction_window_s:
                for c in charging:
                    self.max_cp_w = max(self.max_cp_w, c.current_a * 230 * c.ev.phases)


class _Tempo:
    def __init__(self, config: HubConfig, start: datetime) -> None:
        self.config, self.start = config, start
        self.svc: TempoService | None = None
        self.next_tick = 0.0
        self.max_import_a: dict[str, float] = {}
        self.over_s = 0.0  # red-day window, import above the red limit
        self.longest_over_s = 0.0
        self._run_s = 0.0
        self._last_t = 0.0

    def __call__(self, run: Any, loop: EmsLoop, t: float) -> None:
        if self.svc is None:
            self.svc = TempoService(self.config, None, loop.clock,  # type: ignore[arg-type]
                                    fetcher=lambda day: {})
            self.svc.ems = loop
            self.svc.days = {(self.start + timedelta(days=d)).date(): c for d, c in TEMPO.items()}
        if t >= self.next_tick:
            self.svc.apply()
            self.next_tick = t + self.svc.tick_s()
        local = self.start + timedelta(seconds=t)
        dt, self._last_t = t - self._last_t, t
        if 6 <= local.hour < 22:
            colour = TEMPO.get((local.date() - self.start.date()).days)
            key = f"{local.date()} {colour}"
            worst = max(run.sim.last_import_a)
            self.max_import_a[key] = max(self.max_import_a.get(key, 0.0), worst)
            if colour == "RED" and worst > RED_LIMIT_A + 0.01:
                self.over_s += dt
                self._run_s += dt
                self.longest_over_s = max(self.longest_over_s, self._run_s)
            else:
                self._run_s = 0.0


def _daily_kwh(week: Week) -> list[float]:
    out = [0.0] * 8
    for h, _, ev_w, _ in week.power_w:
        out[min(7, int(h // 24))] += ev_w / 6 / 1000  # 10-minute samples
    return [round(x, 1) for x in out]


def _plot(zweek: Week, tempo: Week) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    pts = [p for p in zweek.power_w if p[0] < 24]
    axes[0].plot([p[0] for p in pts], [p[2] / 1000 for p in pts], color="green",
                 label="charging")
    for a, b in UNFAVOURABLE:
        axes[0].axvspan(a, b, color="red", alpha=0.15)
    axes[0].set_title("Island, EDF-SEI unfavourable slots (red): half power")
    axes[0].set_xlabel("hour")
    axes[0].set_ylabel("kW")
    axes[0].legend()
    pts = [p for p in tempo.power_w if p[0] < 72]
    axes[1].plot([p[0] for p in pts], [p[1] / 230 / 3 for p in pts], color="black",
                 linewidth=0.8, label="grid import, mean per phase (A)")
    axes[1].axhline(RED_LIMIT_A, color="red", linestyle="--", label="red-day limit 150 A")
    axes[1].axvspan(24 + 6, 24 + 22, color="red", alpha=0.1)
    axes[1].set_title("Office, Tempo: blue, red, white days")
    axes[1].set_xlabel("hours from Monday 00:00")
    axes[1].legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(RESULTS / "grid_signals.png", dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=float, default=1.0, help="simulation step, s")
    parser.add_argument("--start", default="2026-06-08", help="a Monday, local date")
    args = parser.parse_args(argv)
    start = datetime.fromisoformat(args.start).replace(tzinfo=PARIS)
    out: dict[str, Any] = {"benchmark": "grid_signals", "start": args.start,
                           "step_s": args.step}
    t0 = time.monotonic()
    zni_cfg = _config("island", {"zni": {"api_key": "unused"}})
    plain = simulate_week(_config("island", {}), "island", "hub", step_s=args.step,
                          hours=24, start=start)[0]
    z = _Zni(zni_cfg, start)
    zweek = simulate_week(zni_cfg, "island", "hub", step_s=args.step, hours=24, start=start,
                          hook=z)[0]
    out["zni"] = {"runs": [{k: r[k] for k in ("start", "cut_after_s")} for r in z.runs],
                  "max_cut_after_s": max((r["cut_after_s"] or 0.0) for r in z.runs),
                  "max_cp_kw_unfavourable": round(z.max_cp_w / 1000, 2),
                  "energy_kwh": round(zweek.energy_wh / 1000, 1),
                  "energy_kwh_without_signal": round(plain.energy_wh / 1000, 1),
                  "seconds_over_limit": zweek.seconds_over_limit}
    print(f"ZNI island: cut to half {out['zni']['max_cut_after_s']} s after a slot starts at "
          f"worst; {out['zni']['max_cp_kw_unfavourable']} kW at most per point in "
          f"unfavourable slots; {out['zni']['energy_kwh']} kWh charged "
          f"({out['zni']['energy_kwh_without_signal']} kWh without the signal) "
          f"({time.monotonic() - t0:.0f} s)", flush=True)
    t0 = time.monotonic()
    rule = {"limit_a": RED_LIMIT_A, "start": "06:00", "end": "22:00"}
    tempo_cfg = _config("office", {"tempo": {"source": "mirror", "red": rule}})
    tp = _Tempo(tempo_cfg, start)
    tweek = simulate_week(tempo_cfg, "office", "hub", step_s=max(args.step, 5.0), hours=72,
                          start=start, hook=tp)[0]
    out["tempo"] = {"max_import_a_06_22": {k: round(v, 1) for k, v in tp.max_import_a.items()},
                    "red_seconds_over": round(tp.over_s), "red_longest_over_s":
                    round(tp.longest_over_s),
                    "charged_kwh_per_day": _daily_kwh(tweek)[:3],
                    "red_limit_a": RED_LIMIT_A, "seconds_over_limit": tweek.seconds_over_limit}
    print(f"Tempo office: highest import 06-22 per day {out['tempo']['max_import_a_06_22']} "
          f"(red-day limit {RED_LIMIT_A} A: {out['tempo']['red_seconds_over']} s over it in "
          f"all, at most {out['tempo']['red_longest_over_s']} s in a row); charged per day "
          f"{out['tempo']['charged_kwh_per_day']} kWh ({time.monotonic() - t0:.0f} s)",
          flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "grid_signals.json").write_text(json.dumps(out, indent=2) + "\n")
    _plot(zweek, tweek)
    return out


if __name__ == "__main__":
    main()
