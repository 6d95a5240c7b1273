"""Time built-ins (uprobe_py/builtins/fn_time.py).

Expected values come from `man 3stap function::ctime` (the examples are quoted
there) and SystemTap 4.8's linux/timestamp*.stp, tzinfo.stp and stopwatch.stp.
"""
from __future__ import annotations

import os
import time

import pytest

from uprobe_py.builtins import fn_time
from uprobe_py.runtime.context import Context
from uprobe_py.runtime.errors import StapRuntimeError
from builtin_support import StubSession, fn


def test_ctime_examples_from_man_page() -> None:
    ctime = fn("ctime", 1)
    assert ctime(0) == "Thu Jan  1 00:00:00 1970"
    assert ctime(-2147483648) == "Fri Dec 13 20:45:52 1901"
    assert ctime(2147483647) == "Tue Jan 19 03:14:07 2038"
    assert ctime(1234567890) == "Fri Feb 13 23:31:30 2009"
    assert len(ctime(1000000000)) == 24          # "always exactly 24 characters"


def test_ctime_range_errors() -> None:
    # man ctime: out-of-range values are errors (messages from ctime.stp)
    with pytest.raises(StapRuntimeError) as e:
        fn("ctime", 1)(2147483648)
    assert e.value.msg == "Time too far in the future to be converted"
    with pytest.raises(StapRuntimeError) as e:
        fn("ctime", 1)(-2147483649)
    assert e.value.msg == "Time too far in the past to be converted"


def test_ctime_without_argument_is_now() -> None:
    # man ctime: "Without an argument, does the same as ctime(gettimeofday_s())"
    before = fn("ctime", 1)(int(time.time()))
    now = fn("ctime", 0)()
    assert len(now) == 24 and now[-4:] == before[-4:]


def test_tz_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    # tzinfo.stp: tz_ctime(s) = ctime(s - tz_gmtoff()) . " " . tz_name();
    # tz_gmtoff is seconds *west* of UTC (staprun: -tm_gmtoff)
    assert fn("tz_gmtoff", 0)() == -time.localtime().tm_gmtoff
    assert fn("tz_name", 0)() == time.localtime().tm_zone
    monkeypatch.setattr(fn_time, "TZ_GMTOFF", -3600)
    monkeypatch.setattr(fn_time, "TZ_NAME", "CET")
    assert fn("tz_ctime", 1)(0) == "Thu Jan  1 01:00:00 1970 CET"


def test_gettimeofday_units() -> None:
    t0 = time.time_ns()
    ns = fn("gettimeofday_ns", 0)()
    us = fn("gettimeofday_us", 0)()
    ms = fn("gettimeofday_ms", 0)()
    s = fn("gettimeofday_s", 0)()
    t1 = time.time_ns()
    assert t0 <= ns <= t1
    assert t0 // 1000 <= us <= t1 // 1000
    assert t0 // 10 ** 6 <= ms <= t1 // 10 ** 6
    assert t0 // 10 ** 9 <= s <= t1 // 10 ** 9


def test_monotonic_clocks() -> None:
    a = fn("local_clock_ns", 0)()
    b = fn("ktime_get_ns", 0)()
    c = fn("cpu_clock_ns", 1)(0)
    assert 0 < a <= b <= c
    assert fn("local_clock_s", 0)() == pytest.approx(c / 1e9, abs=2)
    assert fn("cpu_clock_ms", 1)(0) >= c // 10 ** 6
    assert fn("get_cycles", 0)() > 0


def test_cpu_clock_offline_cpu() -> None:
    # linux/timestamp_monotonic.stp: "cpu %lld is not online"
    with pytest.raises(StapRuntimeError) as e:
        fn("cpu_clock_us", 1)(100000)
    assert e.value.msg == "cpu 100000 is not online"
    with pytest.raises(StapRuntimeError):
        fn("cpu_clock_s", 1)(-1)


def test_hz_and_jiffies() -> None:
    hz = fn("HZ", 0)()
    assert hz in (100, 250, 300, 1000)
    j1 = fn("jiffies", 0)()
    time.sleep(0.02)
    j2 = fn("jiffies", 0)()
    assert j2 > j1
    # jiffies starts at INITIAL_JIFFIES = (unsigned int)(-300*HZ) at boot
    boot = (-300 * hz) & 0xFFFFFFFF
    uptime = time.monotonic()
    assert abs(j2 - boot - uptime * hz) < 5 * hz


def test_stopwatch(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = Context(StubSession())
    now = [1_000_000_000]
    monkeypatch.setattr(fn_time, "_time_ns", lambda: now[0])
    read_ns = fn("read_stopwatch_ns", 1)
    # stopwatch.stp: reading creates a stopped watch at 0
    assert read_ns(ctx, "w") == 0
    fn("start_stopwatch", 1)(ctx, "w")
    now[0] += 2_500_000_000
    assert read_ns(ctx, "w") == 2_500_000_000
    assert fn("read_stopwatch_us", 1)(ctx, "w") == 2_500_000
    assert fn("read_stopwatch_ms", 1)(ctx, "w") == 2_500
    assert fn("read_stopwatch_s", 1)(ctx, "w") == 2
    fn("stop_stopwatch", 1)(ctx, "w")
    now[0] += 10 ** 9
    assert read_ns(ctx, "w") == 2_500_000_000          # stopped: no progress
    fn("start_stopwatch", 1)(ctx, "w")                  # accumulates
    now[0] += 500_000_000
    fn("start_stopwatch", 1)(ctx, "w")                  # already running: no reset
    now[0] += 500_000_000
    assert read_ns(ctx, "w") == 3_500_000_000
    fn("delete_stopwatch", 1)(ctx, "w")
    assert read_ns(ctx, "w") == 0
    fn("stop_stopwatch", 1)(ctx, "never_started")      # creates it, stopped
    assert read_ns(ctx, "never_started") == 0


def test_online_cpus_include_cpu0() -> None:
    assert 0 in fn_time.ONLINE_CPUS
    assert len(fn_time.ONLINE_CPUS) <= (os.cpu_count() or 1)
