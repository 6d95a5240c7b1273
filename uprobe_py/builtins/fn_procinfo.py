"""Process-resource built-ins read from /proc: task CPU times, process memory
sizes, and the system load average.

Input: the per-hit `Context` (current pid/tid) or an explicit pid/tid.
Output: stap longs and strings. The kernel counters stap reads from
task_struct/mm_struct are taken from their /proc projections:

- task_utime/task_stime: /proc/PID/task/TID/stat utime/stime (clock ticks)
  in nanoseconds, the unit of task_struct->utime since Linux 4.11.
- proc_mem_*: /proc/PID/statm (pages) and the RssFile: line of
  /proc/PID/status for proc_mem_shr (MM_FILEPAGES only).
- get_loadavg_index/sprint_loadavg: /proc/loadavg, which the kernel prints
  with the very rounding (avenrun + FIXED_1/200) that loadavg.stp uses.

Semantics follow SystemTap 4.8's `linux/task_time.stp`, `linux/proc_mem.stp`
and `linux/loadavg.stp`. Not here: anything taking a task_struct pointer.
"""
from __future__ import annotations

import os
from typing import Any

from uprobe_py.builtins.fn_context import proc_stat, read_proc
from uprobe_py.builtins.fn_conversion import (
    PAGE_SIZE,
    cputime_to_string_impl,
    pages_to_string_impl,
)
from uprobe_py.builtins.registry import LONG, STRING, builtin
from uprobe_py.runtime.context import Context
from uprobe_py.runtime.errors import StapRuntimeError

G_TASKTIME = "Task Time Tapset"
G_MEM = "Memory Tapset"
G_LOAD = "Context Functions"

_NS_PER_TICK = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


# --- task times ---------------------------------------------------------------------------

def _tgid_of(tid: int) -> int | None:
    data = read_proc("/proc/%d/status" % tid)
    if data is None:
        return None
    i = data.find(b"\nTgid:")
    return int(data[i + 6:data.index(b"\n", i + 1)]) if i >= 0 else None


def _thread_stat(pid: int | None, tid: int) -> list[bytes] | None:
    tid &= 0xFFFFFFFF
    if tid == 0 or tid & 0x80000000:
        return None
    if pid is None:
        pid = _tgid_of(tid)
        if pid is None:
            return None
    return proc_stat(pid, tid)


def _times(pid: int | None, tid: int) -> tuple[int, int]:
    f = _thread_stat(pid, tid)
    if not f:
        return 0, 0
    return int(f[11]) * _NS_PER_TICK, int(f[12]) * _NS_PER_TICK


@builtin("task_utime", LONG, (), needs_ctx=True, group=G_TASKTIME)
def task_utime(ctx: Context) -> int:
    return _times(ctx.pid, ctx.tid)[0]


@builtin("task_stime", LONG, (), needs_ctx=True, group=G_TASKTIME)
def task_stime(ctx: Context) -> int:
    return _times(ctx.pid, ctx.tid)[1]


@builtin("task_utime", LONG, (LONG,), group=G_TASKTIME)
def task_utime_of(tid: int) -> int:
    return _times(None, tid)[0]


@builtin("task_stime", LONG, (LONG,), group=G_TASKTIME)
def task_stime_of(tid: int) -> int:
    return _times(None, tid)[1]


builtin("task_utime_tid", LONG, (LONG,), group=G_TASKTIME)(task_utime_of)
builtin("task_stime_tid", LONG, (LONG,), group=G_TASKTIME)(task_stime_of)


def _time_string(ut: int, st: int) -> str:
    return "usr: %s, sys: %s" % (cputime_to_string_impl(ut), cputime_to_string_impl(st))


@builtin("task_time_string", STRING, (), needs_ctx=True, group=G_TASKTIME)
def task_time_string(ctx: Context) -> str:
    return _time_string(*_times(ctx.pid, ctx.tid))


@builtin("task_time_string_tid", STRING, (LONG,), group=G_TASKTIME)
def task_time_string_tid(tid: int) -> str:
    return _time_string(*_times(None, tid))


@builtin("task_start_time", LONG, (LONG,), group=G_TASKTIME)
def task_start_time(tid: int) -> int:
    f = _thread_stat(None, tid)
    return int(f[19]) * _NS_PER_TICK if f else 0


# --- process memory ----------------------------------------------------------------------

def _statm(pid: int) -> list[int] | None:
    pid &= 0xFFFFFFFF
    if pid == 0 or pid & 0x80000000:
        return None
    data = read_proc("/proc/%d/statm" % pid)
    if not data:
        return None
    return [int(x) for x in data.split()]


def _rss_file_pages(pid: int) -> int:
    data = read_proc("/proc/%d/status" % (pid & 0xFFFFFFFF))
    if data is None:
        return 0
    i = data.find(b"\nRssFile:")
    if i < 0:
        return 0
    kb = int(data[i + 9:data.index(b"\n", i + 1)].split()[0])
    return kb * 1024 // PAGE_SIZE


def _mem(pid: int, field: int) -> int:
    if field == -1:
        return _rss_file_pages(pid) if _statm(pid) else 0
    s = _statm(pid)
    return s[field] if s else 0


# field indexes in statm: size resident shared text lib data dt
_MEM_FIELDS = (("size", 0), ("rss", 1), ("shr", -1), ("txt", 3), ("data", 5))


def _make_mem(field: int) -> tuple[Any, Any]:
    def current(ctx: Context) -> int:
        return _mem(ctx.pid, field)

    def of_pid(pid: int) -> int:
        return _mem(pid, field)
    return current, of_pid


for _name, _field in _MEM_FIELDS:
    _cur, _of = _make_mem(_field)
    builtin("proc_mem_" + _name, LONG, (), needs_ctx=True, group=G_MEM)(_cur)
    builtin("proc_mem_" + _name, LONG, (LONG,), group=G_MEM)(_of)
    builtin("proc_mem_%s_pid" % _name, LONG, (LONG,), group=G_MEM)(_of)
del _name, _field, _cur, _of


def _mem_string(pid: int) -> str:
    return "size: %s, rss: %s, shr: %s, txt: %s, data: %s" % tuple(
        pages_to_string_impl(_mem(pid, field)) for _, field in _MEM_FIELDS)


@builtin("proc_mem_string", STRING, (), needs_ctx=True, group=G_MEM)
def proc_mem_string(ctx: Context) -> str:
    return _mem_string(ctx.pid)


@builtin("proc_mem_string", STRING, (LONG,), group=G_MEM)
def proc_mem_string_of(pid: int) -> str:
    return _mem_string(pid)


builtin("proc_mem_string_pid", STRING, (LONG,), group=G_MEM)(proc_mem_string_of)


# --- load average ---------------------------------------------------------------------------

def _loadavg() -> list[str]:
    data = read_proc("/proc/loadavg") or b"0.00 0.00 0.00"
    return data.decode("ascii").split()[:3]


@builtin("get_loadavg_index", LONG, (LONG,), group=G_LOAD)
def get_loadavg_index(indx: int) -> int:
    if indx < 0 or indx > 2:
        raise StapRuntimeError("Invalid loadavg index %d specified." % indx)
    return int(_loadavg()[indx].split(".")[0])


@builtin("sprint_loadavg", STRING, (), group=G_LOAD)
def sprint_loadavg() -> str:
    return " ".join(_loadavg()) + "\n"
