"""Time built-ins: wall and monotonic clocks, jiffies, HZ, ctime and the time
zone functions, and the stopwatch family.

Input: longs and strings; output: longs and strings. Clocks are read from the
host (time.time_ns, CLOCK_MONOTONIC); kernel facts that user space cannot
read directly are derived once at import:

- HZ (CONFIG_HZ) from /proc/config.gz or /boot/config-$(uname -r), else
  inferred from /proc/timer_list, else 250.
- jiffies = the kernel's INITIAL_JIFFIES + CLOCK_MONOTONIC * HZ, calibrated
  against /proc/timer_list when that file is readable.
- get_cycles() has no portable user-space equivalent of `rdtsc`: it returns a
  free-running nanosecond counter (CLOCK_MONOTONIC_RAW), good for deltas.
- tz_gmtoff()/tz_name() are taken at start-up, as staprun's send_tzinfo()
  does: minus tm_gmtoff (seconds west of UTC) and tm_zone of localtime(now).

Semantics follow SystemTap 4.8's `linux/timestamp*.stp`, `linux/ctime.stp`,
`tzinfo.stp`, `linux/tzinfo.stp` and `stopwatch.stp`. Not here: timer probes.
"""
from __future__ import annotations

import gzip
import os
import re
import time

from uprobe_py.builtins.registry import LONG, STRING, VOID, builtin
from uprobe_py.runtime.context import Context
from uprobe_py.runtime.cpus import online_cpus
from uprobe_py.runtime.errors import StapRuntimeError
from uprobe_py.runtime.values import wrap

G_TS = "Timestamp Functions"
G_UTIL = "Time utility functions"

_time_ns = time.time_ns
_monotonic_ns = time.monotonic_ns


# --- kernel HZ and jiffies -------------------------------------------------------

def _config_hz() -> int | None:
    release = os.uname().release
    for path in ("/proc/config.gz", f"/boot/config-{release}"):
        try:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt") as f: 
                for line in f:
                    if line.startswith("CONFIG_HZ="):
                        return int(line.split("=", 1)[1])
        except (OSError, ValueError, EOFError):
            continue
    return None


def _timer_list_jiffies() -> tuple[int, int] | None:
    """(jiffies, monotonic ns) sampled together from /proc/timer_list (root only)."""
    try:
        with open("/proc/timer_list", "rb") as f:
            data = f.read(1 << 16)
        now = _monotonic_ns()
    except OSError:
        return None
    m = re.search(rb"^jiffies: (\d+)$", data, re.MULTILINE)
    return (int(m.group(1)), now) if m else None


def _initial_jiffies(hz: int) -> int:
    # include/linux/jiffies.h: ((unsigned long)(unsigned int)(-300*HZ))
    return (-300 * hz) & 0xFFFFFFFF


def _infer_hz(sample: tuple[int, int] | None) -> int | None:
    if sample is None:
        return None
    j, now = sample
    best = min((100, 250, 300, 1000),
               key=lambda hz: abs(j - _initial_jiffies(hz) - now * hz // 1_000_000_000))
    return best


_SAMPLE = _timer_list_jiffies()
KERNEL_HZ: int = _config_hz() or _infer_hz(_SAMPLE) or 250
if _SAMPLE is not None:
    _JIFFIES_BASE, _JIFFIES_T0 = _SAMPLE
else:
    _JIFFIES_BASE, _JIFFIES_T0 = _initial_jiffies(KERNEL_HZ), 0


@builtin("HZ", LONG, (), group=G_TS)
def hz() -> int:
    return KERNEL_HZ


@builtin("jiffies", LONG, (), group=G_TS)
def jiffies() -> int:
    return wrap(_JIFFIES_BASE + (_monotonic_ns() - _JIFFIES_T0) * KERNEL_HZ // 1_000_000_000)


@builtin("get_cycles", LONG, (), group=G_TS)
def get_cycles() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW)


# --- clocks ---------------------------------------------------------------------

@builtin("gettimeofday_ns", LONG, (), group=G_TS)
def gettimeofday_ns() -> int:
    return _time_ns()


@builtin("gettimeofday_us", LONG, (), group=G_TS)
def gettimeofday_us() -> int:
    return _time_ns() // 1000


@builtin("gettimeofday_ms", LONG, (), group=G_TS)
def gettimeofday_ms() -> int:
    return _time_ns() // 1000000


@builtin("gettimeofday_s", LONG, (), group=G_TS)
def gettimeofday_s() -> int:
    return _time_ns() // 1000000000


# local_clock() and cpu_clock(cpu) are the scheduler clock, nanoseconds since
# boot; ktime_get_ns() is CLOCK_MONOTONIC. All three read CLOCK_MONOTONIC here.

@builtin("local_clock_ns", LONG, (), group=G_TS)
def local_clock_ns() -> int:
    return _monotonic_ns()


@builtin("local_clock_us", LONG, (), group=G_TS)
def local_clock_us() -> int:
    return _monotonic_ns() // 1000


@builtin("local_clock_ms", LONG, (), group=G_TS)
def local_clock_ms() -> int:
    return _monotonic_ns() // 1000000


@builtin("local_clock_s", LONG, (), group=G_TS)
def local_clock_s() -> int:
    return _monotonic_ns() // 1000000000


@builtin("ktime_get_ns", LONG, (), group=G_TS)
def ktime_get_ns() -> int:
    return _monotonic_ns()


ONLINE_CPUS = frozenset(online_cpus())


def _cpu_clock(cpu: int) -> int:
    if cpu in ONLINE_CPUS:
        return _monotonic_ns()
    raise StapRuntimeError("cpu %d is not online" % cpu)


@builtin("cpu_clock_ns", LONG, (LONG,), group=G_TS)
def cpu_clock_ns(cpu: int) -> int:
    return _cpu_clock(cpu)


@builtin("cpu_clock_us", LONG, (LONG,), group=G_TS)
def cpu_clock_us(cpu: int) -> int:
    return _cpu_clock(cpu) // 1000


@builtin("cpu_clock_ms", LONG, (LONG,), group=G_TS)
def cpu_clock_ms(cpu: int) -> int:
    return _cpu_clock(cpu) // 1000000


@builtin("cpu_clock_s", LONG, (LONG,), group=G_TS)
def cpu_clock_s(cpu: int) -> int:
    return _cpu_clock(cpu) // 1000000000


# --- ctime and time zones ---------------------------------------------------------

_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def ctime_impl(epochsecs: int) -> str:
    """ctime.stp: always GMT, 24 characters, 32-bit time_t range only."""
    if epochsecs > 2147483647:
        raise StapRuntimeError("Time too far in the future to be converted")
    if epochsecs < -2147483648:
        raise StapRuntimeError("Time too far in the past to be converted")
    t = time.gmtime(epochsecs)
    return "%s %s%3d %.2d:%.2d:%.2d %d" % (
        _DAYS[(t.tm_wday + 1) % 7], _MONTHS[t.tm_mon - 1], t.tm_mday,
        t.tm_hour, t.tm_min, t.tm_sec, t.tm_year)


@builtin("ctime", STRING, (LONG,), group=G_UTIL)
def ctime(epochsecs: int) -> str:
    return ctime_impl(epochsecs)


@builtin("ctime", STRING, (), group=G_UTIL)
def ctime_now() -> str:
    return ctime_impl(_time_ns() // 1000000000)


def _tzinfo() -> tuple[int, str]:
    now = time.localtime()
    # staprun: tz_gmtoff = -tm_gmtoff; tz_name = tm_zone (STP_TZ_NAME_LEN bytes)
    return -now.tm_gmtoff, (now.tm_zone or "").encode("latin-1", "replace").decode("latin-1")


TZ_GMTOFF, TZ_NAME = _tzinfo()


@builtin("tz_gmtoff", LONG, (), group=G_UTIL)
def tz_gmtoff() -> int:
    return TZ_GMTOFF


@builtin("tz_name", STRING, (), group=G_UTIL)
def tz_name() -> str:
    return TZ_NAME


@builtin("tz_ctime", STRING, (LONG,), group=G_UTIL)
def tz_ctime(epochsecs: int) -> str:
    return ctime_impl(wrap(epochsecs - TZ_GMTOFF)) + " " + TZ_NAME


# --- stopwatches (stopwatch.stp) -----------------------------------------------------
# State per session in ctx.extra["stopwatch"]: name -> [start_ns (0 = stopped), acc_ns].

_SW_KEY = "stopwatch"


def _watches(ctx: Context) -> dict[str, list[int]]:
    sw = ctx.extra.get(_SW_KEY)
    if sw is None:
        sw = ctx.extra[_SW_KEY] = {}
    return sw


@builtin("start_stopwatch", VOID, (STRING,), needs_ctx=True, group=G_TS)
def start_stopwatch(ctx: Context, name: str) -> None:
    w = _watches(ctx).setdefault(name, [0, 0])
    if w[0] == 0:
        w[0] = _time_ns()


@builtin("stop_stopwatch", VOID, (STRING,), needs_ctx=True, group=G_TS)
def stop_stopwatch(ctx: Context, name: str) -> None:
    w = _watches(ctx).setdefault(name, [0, 0])
    if w[0] != 0:
        w[1] = wrap(w[1] + _time_ns() - w[0])
    w[0] = 0


@builtin("delete_stopwatch", VOID, (STRING,), needs_ctx=True, group=G_TS)
def delete_stopwatch(ctx: Context, name: str) -> None:
    _watches(ctx).pop(name, None)


def _read_stopwatch(ctx: Context, name: str) -> int:
    w = _watches(ctx).setdefault(name, [0, 0])
    delta = _time_ns() - w[0] if w[0] != 0 else 0
    return wrap(w[1] + delta)


def _cdiv(a: int, b: int) -> int:
    q = abs(a) // b
    return q if a >= 0 else -q


@builtin("read_stopwatch_ns", LONG, (STRING,), needs_ctx=True, group=G_TS)
def read_stopwatch_ns(ctx: Context, name: str) -> int:
    return _read_stopwatch(ctx, name)


@builtin("read_stopwatch_us", LONG, (STRING,), needs_ctx=True, group=G_TS)
def read_stopwatch_us(ctx: Context, name: str) -> int:
    return _cdiv(_read_stopwatch(ctx, name), 1000)


@builtin("read_stopwatch_ms", LONG, (STRING,), needs_ctx=True, group=G_TS)
def read_stopwatch_ms(ctx: Context, name: str) -> int:
    return _cdiv(_read_stopwatch(ctx, name), 1000000)


@builtin("read_stopwatch_s", LONG, (STRING,), needs_ctx=True, group=G_TS)
def read_stopwatch_s(ctx: Context, name: str) -> int:
    return _cdiv(_read_stopwatch(ctx, name), 1000000000)

