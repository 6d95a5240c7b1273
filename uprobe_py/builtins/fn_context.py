"""Context built-ins that need no registers or target memory: process and
thread ids, credentials, names, the probe point, the target pid, the
environment and command line of the current process.

Input: the per-hit `Context` (ctx.pid, ctx.tid, ctx.cpu, ctx.pp,
ctx.is_return, ctx.user_mode, ctx.regs, ctx.extra, ctx.session.target_pid,
ctx.session.maxstringlen). Output: stap longs and strings.

"Current" is the task the context names: the traced thread in a process
probe, the uprobe-py process itself in begin/end/timer probes (as stap's
begin probes see stapio). Facts about another process come from
/proc/<pid>/...; facts about uprobe-py itself from os.* calls.

The ns_* functions answer in uprobe-py's own pid/user namespace, which is
what stap answers without --target-namespaces.

Semantics follow SystemTap 4.8's `context.stp`, `linux/context.stp`,
`linux/context-envvar.stp` and `linux/task.stp`. Not here: pn()/pnlabel()
(the script-level probe name is a compile-time constant of each probe),
module_name(), register and backtrace functions.
"""
from __future__ import annotations

import os

from uprobe_py.builtins.fn_string import tokenize_impl as tokenize
from uprobe_py.builtins.registry import LONG, STRING, builtin
from uprobe_py.runtime.context import Context

G_CTX = "Context Functions"


# --- /proc helpers ------------------------------------------------------------------

def read_proc(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def proc_stat(pid: int, tid: int | None = None) -> list[bytes] | None:
    """Fields of /proc/PID[/task/TID]/stat, 0-based after pid and (comm):
    [0]=state [1]=ppid [2]=pgrp [3]=session ... [11]=utime [12]=stime
    [19]=starttime."""
    path = "/proc/%d/stat" % pid if tid is None else "/proc/%d/task/%d/stat" % (pid, tid)
    data = read_proc(path)
    if not data:
        return None
    return data[data.rfind(b")") + 2:].split()


def proc_comm(pid: int, tid: int | None = None) -> str:
    path = "/proc/%d/comm" % pid if tid is None else "/proc/%d/task/%d/comm" % (pid, tid)
    data = read_proc(path)
    if data is None:
        return ""
    if data.endswith(b"\n"):
        data = data[:-1]
    return data.decode("latin-1")


def _status_ids(ctx: Context, key: bytes) -> tuple[int, int] | None:
    """(real, effective) ids from the Uid:/Gid: line of the current thread."""
    data = read_proc("/proc/%d/task/%d/status" % (ctx.pid, ctx.tid))
    if data is None:
        return None
    i = data.find(key)
    if i < 0:
        return None
    f = data[i + len(key):data.index(b"\n", i + 1)].split()
    return int(f[0]), int(f[1])


# --- ids ----------------------------------------------------------------------------

@builtin("pid", LONG, (), needs_ctx=True, group=G_CTX)
def pid(ctx: Context) -> int:
    return ctx.pid


@builtin("tid", LONG, (), needs_ctx=True, group=G_CTX)
def tid(ctx: Context) -> int:
    return ctx.tid


def ppid_impl(ctx: Context) -> int:
    if ctx.pid == os.getpid():
        return os.getppid()
    f = proc_stat(ctx.pid)
    return int(f[1]) if f else 0


@builtin("ppid", LONG, (), needs_ctx=True, group=G_CTX)
def ppid(ctx: Context) -> int:
    return ppid_impl(ctx)


@builtin("pgrp", LONG, (), needs_ctx=True, group=G_CTX)
def pgrp(ctx: Context) -> int:
    try:
        return os.getpgid(ctx.pid)
    except OSError:
        return 0


@builtin("sid", LONG, (), needs_ctx=True, group=G_CTX)
def sid(ctx: Context) -> int:
    try:
        return os.getsid(ctx.pid)
    except OSError:
        return 0


def _uids(ctx: Context) -> tuple[int, int]:
    if ctx.pid == os.getpid():
        return os.getuid(), os.geteuid()
    return _status_ids(ctx, b"\nUid:") or (0, 0)


def _gids(ctx: Context) -> tuple[int, int]:
    if ctx.pid == os.getpid():
        return os.getgid(), os.getegid()
    return _status_ids(ctx, b"\nGid:") or (0, 0)


@builtin("uid", LONG, (), needs_ctx=True, group=G_CTX)
def uid(ctx: Context) -> int:
    return _uids(ctx)[0]


@builtin("euid", LONG, (), needs_ctx=True, group=G_CTX)
def euid(ctx: Context) -> int:
    return _uids(ctx)[1]


@builtin("gid", LONG, (), needs_ctx=True, group=G_CTX)
def gid(ctx: Context) -> int:
    return _gids(ctx)[0]


@builtin("egid", LONG, (), needs_ctx=True, group=G_CTX)
def egid(ctx: Context) -> int:
    return _gids(ctx)[1]


# Namespace-aware twins: without --target-namespaces stap answers in its own
# namespaces, which are uprobe-py's, the same view /proc gives it.
for _name, _fn in (("ns_pid", pid), ("ns_tid", tid), ("ns_ppid", ppid),
                   ("ns_pgrp", pgrp), ("ns_sid", sid), ("ns_uid", uid),
                   ("ns_euid", euid), ("ns_gid", gid), ("ns_egid", egid)):
    builtin(_name, LONG, (), needs_ctx=True, group=G_CTX)(_fn)
del _name, _fn


@builtin("is_myproc", LONG, (), needs_ctx=True, group=G_CTX)
def is_myproc(ctx: Context) -> int:
    # runtime.h: STP_CURRENT_EUID == _stp_uid (the uid that ran stap)
    return 1 if _uids(ctx)[1] == os.getuid() else 0


@builtin("target", LONG, (), needs_ctx=True, group=G_CTX)
def target(ctx: Context) -> int:
    return int(ctx.session.target_pid)


@builtin("stp_pid", LONG, (), group=G_CTX)
def stp_pid() -> int:
    return os.getpid()


@builtin("remote_id", LONG, (), group=G_CTX)
def remote_id() -> int:
    return -1          # not started with stap --remote


@builtin("remote_uri", STRING, (), group=G_CTX)
def remote_uri() -> str:
    return ""


@builtin("cpu", LONG, (), needs_ctx=True, group=G_CTX)
def cpu(ctx: Context) -> int:
    return ctx.cpu


# --- names ----------------------------------------------------------------------------

@builtin("execname", STRING, (), needs_ctx=True, group=G_CTX)
def execname(ctx: Context) -> str:
    name = ctx.extra.get("execname")      # an engine that knows the event's comm (tracepoints)
    return name if name is not None else proc_comm(ctx.pid, ctx.tid)


@builtin("pexecname", STRING, (), needs_ctx=True, group=G_CTX)
def pexecname(ctx: Context) -> str:
    return proc_comm(ppid_impl(ctx))


@builtin("pid2execname", STRING, (LONG,), group=G_CTX)
def pid2execname(pid_: int) -> str:
    p = pid_ & 0xFFFFFFFF                     # (pid_t)
    if p == 0 or p & 0x80000000:
        return ""
    return proc_comm(p)


# --- the probe point ---------------------------------------------------------------------

@builtin("pp", STRING, (), needs_ctx=True, group=G_CTX)
def pp(ctx: Context) -> str:
    return ctx.pp


@builtin("ppfunc", STRING, (), needs_ctx=True, group=G_CTX)
def ppfunc(ctx: Context) -> str:
    p = ctx.pp
    i = p.find('function("')
    if i >= 0:
        i += 10
    else:
        i = p.find('statement("')
        if i < 0:
            return ""
        i += 11
    j = i
    n = len(p)
    while j < n and p[j] != "@" and p[j] != '"':
        j += 1
    return p[i:j]


def probe_type_of(pp_: str) -> str:
    """The low-level handler type stap 4.8 reports for a probe point."""
    head = pp_.split("(", 1)[0].split(".", 1)[0]
    if head in ("begin", "end", "error", "never"):
        return "begin_end"
    if head == "timer":
        if pp_.startswith("timer.profile"):
            return "profile_timer"
        if pp_.startswith("timer.jiffies"):
            return "timer"
        return "hrtimer"
    if head == "perf":
        return "perf_event"
    if head == "procfs" or head == "input":
        return "procfs"
    if head == "kprobe":
        return "kretprobe" if pp_.endswith(".return") else "kprobe"
    if head in ("kernel", "module"):
        if pp_.startswith("kernel.trace"):
            return "kernel_tracepoint"
        if ".data(" in pp_:
            return "hardware_data_breakpoint"
        return "kretprobe" if ".return" in pp_ else "kprobe"
    if head == "process":
        rest = pp_[pp_.find(")") + 1:] if pp_.startswith("process(") else pp_[len("process"):]
        if rest.startswith(".syscall"):
            return "utrace_syscall"
        if rest.startswith((".begin", ".end", ".thread")):
            return "utrace"
        return "uretprobe" if ".return" in rest else "uprobe"
    if head == "netfilter":
        return "netfilter"
    return "uprobe"


@builtin("probe_type", STRING, (), needs_ctx=True, group=G_CTX)
def probe_type(ctx: Context) -> str:
    return probe_type_of(ctx.pp)


@builtin("is_return", LONG, (), needs_ctx=True, group=G_CTX)
def is_return(ctx: Context) -> int:
    return 1 if ctx.is_return else 0


@builtin("user_mode", LONG, (), needs_ctx=True, group=G_CTX)
def user_mode(ctx: Context) -> int:
    return 1 if ctx.user_mode else 0


@builtin("registers_valid", LONG, (), needs_ctx=True, group=G_CTX)
def registers_valid(ctx: Context) -> int:
    return 1 if ctx.regs is not None else 0


# --- environment and command line ------------------------------------------------------------

def _ustr(data: bytes, pos: int, maxlen: int) -> str:
    """user_string() of the NUL-terminated string at data[pos:], capped at
    MAXSTRINGLEN-1 bytes ("" past the end, like user_string(addr, ""))."""
    end = data.find(b"\0", pos, pos + maxlen - 1)
    if end < 0:
        end = min(len(data), pos + maxlen - 1)
    return data[pos:end].decode("latin-1")


@builtin("env_var", STRING, (STRING,), needs_ctx=True, group=G_CTX)
def env_var(ctx: Context, name: str) -> str:
    # context-envvar.stp walks env_start..env_end with user_string() and
    # tokenize() (so it also resets the script's tokenize() state).
    if name == "":
        return ""
    data = read_proc("/proc/%d/environ" % ctx.pid)
    if not data:
        return ""
    maxlen = ctx.session.maxstringlen
    start = 0
    length = len(data)
    cur = _ustr(data, start, maxlen)
    env_name = tokenize(ctx, cur, "=")
    while env_name != name and length > 0:
        env_len = len(cur)
        start += env_len + 1
        length -= env_len + 1
        if length > 0:
            cur = _ustr(data, start, maxlen)
            env_name = tokenize(ctx, cur, "=")
        else:
            env_name = ""
    if length > 0:
        return tokenize(ctx, "", "")
    return ""


def cmdline_args_impl(ctx: Context, n: int, m: int, delim: str) -> str:
    data = read_proc("/proc/%d/cmdline" % ctx.pid)
    if not data:
        return ""
    maxlen = ctx.session.maxstringlen
    out = ""
    pos = 0
    end = len(data)
    nr = 0
    while pos < end and (m < 0 or nr <= m):
        arg = _ustr(data, pos, maxlen)
        pos += len(arg) + 1
        if nr == n:
            out = arg
        elif nr > n:
            out += delim + (arg if arg else '""')
            if len(out) >= maxlen:
                out = out[:maxlen - 1]
        nr += 1
    return out


@builtin("cmdline_args", STRING, (LONG, LONG, STRING), needs_ctx=True, group=G_CTX)
def cmdline_args(ctx: Context, n: int, m: int, delim: str) -> str:
    return cmdline_args_impl(ctx, n, m, delim)


@builtin("cmdline_arg", STRING, (LONG,), needs_ctx=True, group=G_CTX)
def cmdline_arg(ctx: Context, n: int) -> str:
    return cmdline_args_impl(ctx, n, n, "")


@builtin("cmdline_str", STRING, (), needs_ctx=True, group=G_CTX)
def cmdline_str(ctx: Context) -> str:
    return cmdline_args_impl(ctx, 0, -1, " ")

