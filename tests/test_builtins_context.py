"""Context built-ins (uprobe_py/builtins/fn_context.py).

Expected values come from `man 3stap function::NAME` and SystemTap 4.8's
linux/context.stp, context.stp and linux/context-envvar.stp, checked against
what the kernel reports for this process and for a child process.
"""
from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from uprobe_py.runtime.context import Context
from builtin_support import StubSession, fn


def call(name: str, ctx: Context, *args: Any) -> Any:
    return fn(name, len(args))(ctx, *args)


def own_comm() -> str:
    with open("/proc/self/comm") as f:
        return f.read().rstrip("\n")


@pytest.fixture
def ctx() -> Context:
    return Context(StubSession(target_pid=4242))


@pytest.fixture
def child() -> Iterator[Context]:
    env = {"FOO": "bar=baz", "EMPTY": "", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    # sh blocks in `read` on a pipe; argv holds an empty and a spaced argument
    p = subprocess.Popen(["sh", "-c", "read x", "sh", "", "last arg"], env=env,
                         stdin=subprocess.PIPE)
    try:
        for _ in range(500):
            with open("/proc/%d/cmdline" % p.pid, "rb") as f:
                if f.read().startswith(b"sh\0-c\0"):
                    break
            time.sleep(0.01)
        c = Context(StubSession())
        c.pid = c.tid = p.pid
        yield c
    finally:
        p.kill()
        p.wait()
        assert p.stdin is not None
        p.stdin.close()


def test_ids_of_this_process(ctx: Context) -> None:
    # With no target, "current" is the tracer itself (ctx.pid defaults to it)
    assert call("pid", ctx) == os.getpid()
    assert call("tid", ctx) == os.getpid()
    assert call("ppid", ctx) == os.getppid()
    assert call("pgrp", ctx) == os.getpgid(0)
    assert call("sid", ctx) == os.getsid(0)
    assert call("uid", ctx) == os.getuid()
    assert call("euid", ctx) == os.geteuid()
    assert call("gid", ctx) == os.getgid()
    assert call("egid", ctx) == os.getegid()
    # ns_* answer in our own namespaces when no target namespace is given
    for name in ("pid", "tid", "ppid", "pgrp", "sid", "uid", "euid", "gid", "egid"):
        assert call("ns_" + name, ctx) == call(name, ctx)
    assert call("is_myproc", ctx) == 1
    assert call("cpu", ctx) == 0
    assert call("target", ctx) == 4242
    assert fn("stp_pid", 0)() == os.getpid()
    # man remote_id: -1 when not launched with stap --remote
    assert fn("remote_id", 0)() == -1
    assert fn("remote_uri", 0)() == ""


def test_names_of_this_process(ctx: Context) -> None:
    assert call("execname", ctx) == own_comm()
    with open("/proc/%d/comm" % os.getppid()) as f:
        assert call("pexecname", ctx) == f.read().rstrip("\n")
    assert fn("pid2execname", 1)(os.getpid()) == own_comm()
    # task.stp pid2execname(): "" when there is no such task
    assert fn("pid2execname", 1)(0) == ""
    assert fn("pid2execname", 1)(-5) == ""


def test_ids_and_names_of_another_process(child: Context) -> None:
    assert call("pid", child) == child.pid
    assert call("ppid", child) == os.getpid()
    assert call("execname", child) == "sh"
    assert call("pexecname", child) == own_comm()
    assert call("uid", child) == os.getuid()
    assert call("euid", child) == os.geteuid()
    assert call("gid", child) == os.getgid()
    assert call("egid", child) == os.getegid()
    assert call("pgrp", child) == os.getpgid(0)
    assert call("is_myproc", child) == 1


def test_cmdline(child: Context) -> None:
    # man cmdline_str: all arguments delimited by spaces; context.stp writes
    # an empty argument as "" when it is not the first one returned
    assert call("cmdline_str", child) == 'sh -c read x sh "" last arg'
    assert call("cmdline_arg", child, 0) == "sh"
    assert call("cmdline_arg", child, 2) == "read x"
    assert call("cmdline_arg", child, 4) == ""
    assert call("cmdline_arg", child, 9) == ""
    assert call("cmdline_args", child, 3, -1, ",") == 'sh,"",last arg'
    assert call("cmdline_args", child, 1, 2, "|") == "-c|read x"
    # context.stp stops before n when m < n (the man page says otherwise)
    assert call("cmdline_args", child, 2, 1, "|") == ""


def test_env_var(child: Context) -> None:
    # man env_var: the value of the variable, "" if it is not set
    assert call("env_var", child, "FOO") == "bar=baz"
    assert call("env_var", child, "EMPTY") == ""
    assert call("env_var", child, "NOPE") == ""
    assert call("env_var", child, "") == ""
    # context-envvar.stp works through tokenize() and leaves its state behind
    assert call("tokenize", child, "", "") == ""


def test_probe_point_functions(ctx: Context) -> None:
    ctx.pp = 'process("/bin/ls").function("main@src/ls.c:1234")'
    assert call("pp", ctx) == ctx.pp
    # context.stp ppfunc(): the name after function(" up to '@' or '"'
    assert call("ppfunc", ctx) == "main"
    assert call("probe_type", ctx) == "uprobe"
    ctx.pp = 'process("/bin/ls").statement("foo@x.c:3")'
    assert call("ppfunc", ctx) == "foo"
    ctx.pp = 'process("/bin/ls").function("main").return'
    assert call("probe_type", ctx) == "uretprobe"
    ctx.pp = "begin"
    assert call("ppfunc", ctx) == ""
    assert call("probe_type", ctx) == "begin_end"
    ctx.pp = "timer.ms(100)"
    assert call("probe_type", ctx) == "hrtimer"
    ctx.pp = "timer.jiffies(10)"
    assert call("probe_type", ctx) == "timer"
    ctx.pp = 'kernel.trace("sched:sched_switch")'
    assert call("probe_type", ctx) == "kernel_tracepoint"
    ctx.pp = "perf.type(1).config(0).sample(1000)"
    assert call("probe_type", ctx) == "perf_event"
    ctx.pp = "process.begin"
    assert call("probe_type", ctx) == "utrace"
    ctx.pp = 'process("/bin/ls").syscall'
    assert call("probe_type", ctx) == "utrace_syscall"


def test_mode_flags(ctx: Context) -> None:
    # man registers_valid: 0 from a begin or end probe (no registers)
    assert call("registers_valid", ctx) == 0
    assert call("user_mode", ctx) == 0
    assert call("is_return", ctx) == 0
    ctx.regs = object()
    ctx.user_mode = True
    ctx.is_return = True
    assert call("registers_valid", ctx) == 1
    assert call("user_mode", ctx) == 1
    assert call("is_return", ctx) == 1
