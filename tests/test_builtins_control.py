"""Logging and control built-ins (uprobe_py/builtins/fn_control.py).

Expected behaviour comes from `man 3stap function::NAME` and SystemTap 4.8's
logging.stp, linux/logging.stp, system.stp, random.stp and linux/guru-*.stp.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from uprobe_py.builtins import fn_control
from uprobe_py.runtime.context import Context
from uprobe_py.runtime.errors import ExitRequested, StapRuntimeError
from builtin_support import StubSession as OutputSession, fn


class StubSession(OutputSession):
    def __init__(self) -> None:
        super().__init__()
        self.warnings: list[str] = []
        self.exit_requested = False
        self.aborted = False

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)

    def request_exit(self) -> None:
        self.exit_requested = True

    def abort(self) -> None:
        self.aborted = True


@pytest.fixture
def ctx() -> Context:
    return Context(StubSession())


def test_exit_only_requests(ctx: Context) -> None:
    # man exit: "only enqueues a request ... currently running ones may complete"
    assert fn("exit", 0)(ctx) is None
    assert ctx.session.exit_requested


def test_abort_stops_the_handler(ctx: Context) -> None:
    # man abort: aborts the current handler at once; not catchable by try/catch
    with pytest.raises(ExitRequested):
        fn("abort", 0)(ctx)
    assert ctx.session.aborted
    assert not issubclass(ExitRequested, StapRuntimeError)


def test_error_has_no_location() -> None:
    # logging.stp error(): sets last_error, clears last_stmt -> "ERROR: msg"
    with pytest.raises(StapRuntimeError) as e:
        fn("error", 1)("bad thing")
    assert e.value.msg == "bad thing"
    assert getattr(e.value, "has_location", True) is False


def test_assert() -> None:
    # man assert: aborts with a default message, or the given one
    fn("assert", 1)(1)
    fn("assert", 2)(5, "unused")
    with pytest.raises(StapRuntimeError) as e:
        fn("assert", 1)(0)
    assert e.value.msg == "Assertion failed"
    with pytest.raises(StapRuntimeError) as e:
        fn("assert", 2)(0, "x must be positive")
    assert e.value.msg == "x must be positive"


def test_warn_and_log(ctx: Context) -> None:
    # man warn: a newline is added only if missing (session adds exactly one)
    fn("warn", 1)(ctx, "careful")
    fn("warn", 1)(ctx, "careful\n")
    fn("warn", 1)(ctx, "two\n\n")
    assert ctx.session.warnings == ["careful", "careful", "two\n"]
    # logging.stp log(): STAP_PRINTF("%s\n", msg) -- always a newline
    fn("log", 1)(ctx, "hello")
    fn("log", 1)(ctx, "hi\n")
    assert ctx.session.out == ["hello\n", "hi\n\n"]


def test_system_runs_in_background(tmp_path: Path) -> None:
    # man system: runs the command (via sh -c) some time later, not waiting
    out = tmp_path / "out.txt"
    fn("system", 1)("echo 'hi there' > %s" % out)
    for _ in range(200):
        if out.exists() and out.read_text() == "hi there\n":
            break
        time.sleep(0.01)
    assert out.read_text() == "hi there\n"
    for p in list(fn_control._children):
        p.wait()
    fn_control._reap()


def test_printk_writes_kernel_log_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # linux/logging.stp printk(): KERN_<level> "%s\n"
    kmsg = tmp_path / "kmsg"
    kmsg.touch()
    monkeypatch.setattr(fn_control, "KMSG_PATH", str(kmsg))
    monkeypatch.setattr(fn_control, "_kmsg", None)
    fn("printk", 2)(3, "disk on fire")
    fn("printk", 2)(9, "default level")
    fn_control._kmsg.close()
    assert kmsg.read_bytes() == b"<3>disk on fire\ndefault level\n"


def test_ftrace_writes_trace_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "trace_marker"
    marker.touch()
    monkeypatch.setattr(fn_control, "TRACE_MARKERS", (str(tmp_path / "nope"), str(marker)))
    monkeypatch.setattr(fn_control, "_marker", None)
    fn("ftrace", 1)("event")
    fn_control._marker.close()
    assert marker.read_bytes() == b"event\n"


def test_ftrace_without_tracefs_is_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    # man ftrace: "Otherwise, the message may be quietly dropped"
    monkeypatch.setattr(fn_control, "TRACE_MARKERS", ("/nonexistent/trace_marker",))
    monkeypatch.setattr(fn_control, "_marker", None)
    assert fn("ftrace", 1)("dropped") is None


def test_raise(ctx: Context) -> None:
    # guru-signal.stp: send_sig() to the current thread; signal 0 only checks
    fn("raise", 1)(ctx, 0)
    got: list[int] = []
    old = signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
    try:
        ctx.tid = ctx.pid = os.getpid()
        fn("raise", 1)(ctx, signal.SIGUSR1)
        for _ in range(100):
            if got:
                break
            time.sleep(0.01)
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert got == [signal.SIGUSR1]
    # valid_signal() fails -> send_sig returns -EINVAL
    for bad in (65, -1):
        with pytest.raises(StapRuntimeError) as e:
            fn("raise", 1)(ctx, bad)
        assert e.value.msg == "raise/send_sig error -22"


def test_delays() -> None:
    t0 = time.monotonic()
    fn("mdelay", 1)(20)
    fn("udelay", 1)(1000)
    fn("mdelay", 1)(-5)
    assert time.monotonic() - t0 >= 0.02


def test_panic_is_refused() -> None:
    with pytest.raises(StapRuntimeError) as e:
        fn("panic", 1)("oops")
    assert e.value.msg.endswith(": oops")
