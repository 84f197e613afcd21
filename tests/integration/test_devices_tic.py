"""The Linky TIC read over a serial line (a socat pty pair) in both modes, from frames in
the meter's recorded format (groups whose checksums were checked against real frames:
"MOTDETAT 000000 B", "HHPHC A ,", "VTIC<TAB>02<TAB>J"); a frame with one bad checksum is
dropped whole; a silent line makes the meter stale and its subscription limit goes."""

from __future__ import annotations

import asyncio
import os

import pytest

from hub_engine.clock import SystemClock
from hub_engine.devices.tic import TicParser
from hub_engine.devices.tic_reader import TicMeter, TicOptions
from hub_engine.errors import ReadError
from tests.integration.serial_fixtures import pty_pair

__all__ = ["pty_pair"]

HISTORIC = ["ADCO 041876097792 S", "OPTARIF BBR( S", "ISOUSC 20 8", "BBRHCJB 002565285 >",
            "PTEC HCJB C", "DEMAIN ROUG +", "IINST1 012 K", "IINST2 009 R", "IINST3 003 M",
            "IMAX1 060 6", "PMAX 03695 =", "PAPP 05520 -", "HHPHC A ,",
            "MOTDETAT 000000 B", "PPOT 00 #"]
STANDARD = ["ADSC\t041876097792\tI", "VTIC\t02\tJ", "DATE\tH231129153000\t\t<",
            "NGTF\t      TEMPO      \t&", "LTARF\t    HP  BLEU    \t+", "EAST\t012345678\t3",
            "IRMS1\t012\t1", "IRMS2\t009\t8", "IRMS3\t003\t3", "URMS1\t231\t@", "PREF\t12\tB",
            "PCOUP\t12\t\\", "SINSTS\t05520\tR", "SINSTS1\t02760\tF", "SINSTS2\t02070\tA",
            "SINSTS3\t00690\tH", "STGE\t0D3A4301\tU", "NTARF\t02\tO"]


def frame(lines: list[str]) -> bytes:
    return b"\x02" + b"".join(b"\n" + line.encode() + b"\r" for line in lines) + b"\x03"


def corrupt(lines: list[str], label: str) -> list[str]:
    """The same frame with one digit of ``label``'s data flipped (its checksum now wrong)."""
    return [line.replace("012", "013") if line.startswith(label) else line for line in lines]


def test_historic_frame_meanings() -> None:
    parser = TicParser("historic")
    (f,) = parser.feed(frame(HISTORIC))
    assert f.phases == 3 and f.current_a() == (12.0, 9.0, 3.0)
    assert f.apparent_va() == (5520.0,)
    assert f.subscribed_va() == 20 * 200 * 3  # ISOUSC per phase, as Enedis counts it
    assert f.period() == "HCJB" and f.off_peak() is True
    assert f.tempo_today() == "blue" and f.tempo_tomorrow() == "red"
    assert not f.overcurrent()


def test_standard_frame_meanings() -> None:
    parser = TicParser("standard")
    (f,) = parser.feed(frame(STANDARD))
    assert f.phases == 3 and f.current_a() == (12.0, 9.0, 3.0)
    assert f.apparent_va() == (2760.0, 2070.0, 690.0)
    assert f.subscribed_va() == 12000 and f.cutoff_va() == 12000
    assert f.off_peak() is False and f.period() is not None and "BLEU" in f.period()
    assert f.tempo_today() == "blue" and f.tempo_tomorrow() == "red"  # from STGE bits 24-27


@pytest.mark.parametrize(("mode", "lines", "label"), [
    ("historic", HISTORIC, "IINST1"), ("standard", STANDARD, "IRMS1")])
def test_a_frame_with_a_bad_checksum_is_dropped_whole(mode: str, lines: list[str],
                                                      label: str) -> None:
    parser = TicParser(mode)  # type: ignore[arg-type]
    data = frame(corrupt(lines, label)) + frame(lines)[:40] + frame(lines)
    frames = parser.feed(data[:57]) + parser.feed(data[57:])  # split anywhere
    assert len(frames) == 1 and frames[0].current_a() == (12.0, 9.0, 3.0)
    assert parser.bad_frames == 1  # the corrupt one; the cut one is resynchronised


@pytest.mark.parametrize(("mode", "lines", "baud", "limit_a"), [
    ("historic", HISTORIC, 1200, 20 * 200 / 230),  # ISOUSC 20 A at 200 V, per phase
    ("standard", STANDARD, 9600, 12000 / 3 / 230),  # PCOUP 12 kVA over three phases
])
async def test_a_linky_over_a_serial_line(pty_pair: tuple[str, str], mode: str,
                                          lines: list[str], baud: int, limit_a: float) -> None:
    device_end, hub_end = pty_pair
    changes: list[bool] = []
    meter = TicMeter("linky", TicOptions(serial=hub_end, mode=mode,  # type: ignore[arg-type]
                                         stale_after_s=1.5),
                     SystemClock(), lambda _id, online, _why: changes.append(online))
    assert meter.options.baud == baud
    fd = os.open(device_end, os.O_RDWR | os.O_NOCTTY)
    await meter.start()
    try:
        with pytest.raises(ReadError):
            meter.reading()  # never a zero before the first frame
        for _ in range(3):
            os.write(fd, frame(corrupt(lines, lines[6][:5])))  # dropped: no reading
            await asyncio.sleep(0.1)
        with pytest.raises(ReadError, match="dropped"):
            meter.reading()
        for _ in range(20):
            os.write(fd, frame(lines))
            await asyncio.sleep(0.1)
            if meter.fresh():
                break
        r = meter.reading()
        assert r.current_a == (12.0, 9.0, 3.0) and r.power_w is None  # unsigned: import
        assert meter.limit_a() == pytest.approx(limit_a)
        assert meter.describe()["tempo_tomorrow"] == "red"
        await asyncio.sleep(2.0)  # the line goes silent
        with pytest.raises(ReadError):
            meter.reading()
        with pytest.raises(ReadError):
            meter.limit_a()
        # bad frames before the first good one: lost (reported once), then back, lost
        assert changes == [False, True, False]
        os.write(fd, frame(lines))
        for _ in range(20):
            await asyncio.sleep(0.1)
            if meter.fresh():
                break
        assert meter.reading().current_a == (12.0, 9.0, 3.0)
        assert changes == [False, True, False, True]
    finally:
        await meter.stop()
        os.close(fd)
