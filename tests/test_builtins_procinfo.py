"""Task-time, memory and load-average built-ins (fn_procinfo.py), checked
against /proc and the formats in SystemTap 4.8's linux/task_time.stp,
linux/proc_mem.stp and linux/loadavg.stp."""
from __future__ import annotations

import os
import re

import pytest

from uprobe_py.runtime.context import Context
from uprobe_py.runtime.errors import StapRuntimeError
from builtin_support import StubSession, fn


ctx = Context(StubSession())
SIZE = r"[ \d]{4}[\dKMG]|\d\.\d\d[KMG]|[ \d]\d\.\d[KMG]"


def test_task_times() -> None:
    sum(range(200000))
    ut = fn("task_utime", 0)(ctx)
    st = fn("task_stime", 0)(ctx)
    assert ut >= 0 and st >= 0
    tick = 10 ** 9 // os.sysconf("SC_CLK_TCK")
    assert ut % tick == 0
    assert fn("task_utime", 1)(os.getpid()) >= ut
    assert fn("task_utime_tid", 1)(os.getpid()) >= ut
    assert fn("task_stime_tid", 1)(os.getpid()) >= st
    assert fn("task_utime", 1)(0) == 0          # man: zero if no such task
    # task_time.stp: "usr: %s, sys: %s" with msecs_to_string-style times
    assert re.fullmatch(r"usr: -?\d+m-?\d+\.-?\d{3}s, sys: -?\d+m-?\d+\.-?\d{3}s",
                        fn("task_time_string", 0)(ctx))
    assert fn("task_time_string_tid", 1)(0) == "usr: 0m0.000s, sys: 0m0.000s"
    assert fn("task_start_time", 1)(os.getpid()) > 0
    assert fn("task_start_time", 1)(-1) == 0


def test_proc_mem() -> None:
    with open("/proc/self/statm") as f:
        statm = [int(x) for x in f.read().split()]
    size = fn("proc_mem_size", 0)(ctx)
    assert abs(size - statm[0]) < 4096
    assert fn("proc_mem_txt", 0)(ctx) == statm[3]
    assert fn("proc_mem_txt", 1)(os.getpid()) == statm[3]
    assert fn("proc_mem_txt_pid", 1)(os.getpid()) == statm[3]
    assert 0 < fn("proc_mem_rss", 0)(ctx) <= size
    assert 0 <= fn("proc_mem_shr", 0)(ctx) <= fn("proc_mem_rss", 0)(ctx)
    assert fn("proc_mem_data", 0)(ctx) > 0
    for name in ("size", "rss", "shr", "txt", "data"):
        assert fn("proc_mem_" + name, 1)(0) == 0          # no such task
        assert fn("proc_mem_" + name, 1)(1 << 31) == 0
    # man proc_mem_string: "size: 301m, rss: 11m, shr: 8m, txt: 52k, data: 2248k"
    # (the actual units come from pages_to_string)
    s = fn("proc_mem_string", 0)(ctx)
    assert re.fullmatch(r"size: (%s), rss: (%s), shr: (%s), txt: (%s), data: (%s)"
                        % ((SIZE,) * 5), s), s
    assert fn("proc_mem_string", 1)(0) == \
        "size:     0, rss:     0, shr:     0, txt:     0, data:     0"
    assert fn("proc_mem_string_pid", 1)(0) == fn("proc_mem_string", 1)(0)


def test_loadavg() -> None:
    s = fn("sprint_loadavg", 0)()
    assert re.fullmatch(r"\d+\.\d\d \d+\.\d\d \d+\.\d\d\n", s)
    first = int(s.split()[0].split(".")[0])
    assert abs(fn("get_loadavg_index", 1)(0) - first) <= 1
    # loadavg.stp: error for an index outside 0..2
    with pytest.raises(StapRuntimeError) as e:
        fn("get_loadavg_index", 1)(3)
    assert e.value.msg == "Invalid loadavg index 3 specified."
