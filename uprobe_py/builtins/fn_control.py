"""Logging and control built-ins: exit, abort, error, assert, warn, log,
system, and the guru functions printk, ftrace, raise, mdelay, udelay, panic.

Input: the per-hit `Context` (for the session) and stap values. Output goes
through the session (`ctx.session.write`, `.warn`, `.request_exit`, `.abort`)
or, for the kernel-facing guru functions, to the nearest user-space
equivalent:

- printk(level, msg) writes "<level>msg\\n" to /dev/kmsg (the kernel log, as
  stap does) when that is writable, else to syslog(3) with the same priority.
  Script output on stdout is never touched.
- ftrace(msg) writes "msg\\n" to tracefs' trace_marker, which lands in the same
  ftrace ring buffer as trace_printk(). When tracefs is not writable the
  message is dropped, as the man page says it "may be quietly dropped".
- raise(signo) sends the signal to the current thread with tgkill(2).
- mdelay/udelay sleep instead of busy-waiting.
- panic(msg) cannot crash the kernel from user space: it raises a run-time
  error naming itself.

Semantics follow SystemTap 4.8's `logging.stp`, `linux/logging.stp`,
`system.stp`, `linux/guru-signal.stp`, `linux/guru-delay.stp` and
`linux/panic.stp`. Not here: dump_stack() (a kernel backtrace, not available
to a user-space tracer).
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import syslog
import time
from typing import Any

from uprobe_py.builtins.registry import LONG, STRING, VOID, builtin
from uprobe_py.runtime.context import Context
from uprobe_py.runtime.errors import ExitRequested, StapRuntimeError

G_LOG = "Logging Tapset"
G_SHELL = "Shell command functions"
G_GURU = "Guru tapsets"


class ScriptError(StapRuntimeError):
    """Raised by error(msg) and assert(): stap clears CONTEXT->last_stmt before
    reporting, so the message is printed as `ERROR: msg` with no `near ...`
    location. try/catch still catches it, with msg as the caught string.

    With msg == "" the handler still stops, but stap's probe epilogue tests
    `last_error && last_error[0]`: nothing is printed and MAXERRORS does not
    count it."""

    has_location = False


@builtin("exit", VOID, (), needs_ctx=True, group=G_LOG)
def exit_(ctx: Context) -> None:
    # Only requests the shutdown: the rest of this handler still runs,
    # then the end probes.
    ctx.session.request_exit()


@builtin("abort", VOID, (), needs_ctx=True, group=G_LOG)
def abort(ctx: Context) -> None:
    # Like exit(), but the current handler stops here; not catchable.
    ctx.session.abort()
    raise ExitRequested()


@builtin("error", VOID, (STRING,), group=G_LOG)
def error(msg: str) -> None:
    raise ScriptError(msg)


@builtin("assert", VOID, (LONG,), group=G_LOG)
def assert_(expression: int) -> None:
    if not expression:
        raise ScriptError("Assertion failed")


@builtin("assert", VOID, (LONG, STRING), group=G_LOG)
def assert_msg(expression: int, msg: str) -> None:
    if not expression:
        raise ScriptError(msg)


@builtin("warn", VOID, (STRING,), needs_ctx=True, group=G_LOG)
def warn(ctx: Context, msg: str) -> None:
    # The runtime adds a newline only when msg lacks one; the session's
    # warn() always ends the line, so drop one trailing newline here.
    msg = msg.removesuffix("\n")
    ctx.session.warn(msg)


@builtin("log", VOID, (STRING,), needs_ctx=True, group=G_LOG)
def log(ctx: Context, msg: str) -> None:
    # STAP_PRINTF("%s\n", msg): into the ordinary output stream.
    ctx.session.write(msg + "\n")


# --- system() -------------------------------------------------------------------

_children: list[subprocess.Popen[bytes]] = []


def _reap() -> None:
    for p in _children[:]:
        if p.poll() is not None:
            _children.remove(p)


@builtin("system", VOID, (STRING,), group=G_SHELL)
def system(cmd: str) -> None:
    # stapio runs `sh -c CMD` in the background and does not wait for it;
    # its output goes straight to stapio's stdout/stderr.
    _reap()
    try:
        p = subprocess.Popen(["sh", "-c", cmd.encode("latin-1")], close_fds=True)
    except OSError as e:
        raise StapRuntimeError("system: %s: %s" % (cmd, e.strerror)) from None
    _children.append(p)


# --- guru: printk, ftrace --------------------------------------------------------

KMSG_PATH = "/dev/kmsg"
_kmsg: Any = None          # open /dev/kmsg, False when unavailable, None = not tried


def _open_existing(path: str) -> Any:
    """Open an existing file for unbuffered writing; never create one."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    return os.fdopen(fd, "wb", buffering=0)


def _kmsg_file() -> Any:
    global _kmsg
    if _kmsg is None:
        try:
            _kmsg = _open_existing(KMSG_PATH)
        except OSError:
            _kmsg = False
    return _kmsg


@builtin("printk", VOID, (LONG, STRING), group=G_LOG)
def printk(level: int, msg: str) -> None:
    data = msg.encode("latin-1")
    f = _kmsg_file()
    if 0 <= level <= 7:
        prefix = b"<%d>" % level
        prio = level
    else:
        prefix = b""                      # KERN_DEFAULT
        prio = syslog.LOG_WARNING
    if f:
        try:
            f.write(prefix + data + b"\n")
            return
        except OSError:
            pass
    syslog.syslog(prio, msg)


TRACE_MARKERS = ("/sys/kernel/tracing/trace_marker",
                 "/sys/kernel/debug/tracing/trace_marker")
_marker: Any = None


def _marker_file() -> Any:
    global _marker
    if _marker is None:
        _marker = False
        for path in TRACE_MARKERS:
            try:
                _marker = _open_existing(path)
                break
            except OSError:
                continue
    return _marker


@builtin("ftrace", VOID, (STRING,), group=G_LOG)
def ftrace(msg: str) -> None:
    f = _marker_file()
    if f:
        try:
            f.write(msg.encode("latin-1") + b"\n")
        except OSError:
            pass


# --- guru: raise, delays, panic -----------------------------------------------------

_libc: Any = None


def _tgkill(tgid: int, tid: int, sig: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(_libc, "tgkill", None)
    if fn is None:                 # glibc < 2.30: whole-process kill instead
        os.kill(tgid, sig)
        return
    if fn(ctypes.c_int(tgid), ctypes.c_int(tid), ctypes.c_int(sig)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@builtin("raise", VOID, (LONG,), needs_ctx=True, group=G_GURU)
def raise_(ctx: Context, signo: int) -> None:
    sig = signo & 0xFFFFFFFF                  # (int) STAP_ARG_signo
    sig = sig - (1 << 32) if sig & 0x80000000 else sig
    if not 0 <= sig <= 64:                    # valid_signal(): sig <= _NSIG
        raise StapRuntimeError("raise/send_sig error -22")
    try:
        _tgkill(ctx.pid, ctx.tid, sig)
    except OSError as e:
        raise StapRuntimeError("raise/send_sig error -%d" % (e.errno or 0)) from None


@builtin("mdelay", VOID, (LONG,), group=G_GURU)
def mdelay(ms: int) -> None:
    if ms > 0:
        time.sleep(ms / 1e3)


@builtin("udelay", VOID, (LONG,), group=G_GURU)
def udelay(us: int) -> None:
    if us > 0:
        time.sleep(us / 1e6)


@builtin("panic", VOID, (STRING,), group=G_GURU)
def panic(msg: str) -> None:
    raise StapRuntimeError("panic() is not available in uprobe-py (it would panic "
                           "the kernel): " + msg)
