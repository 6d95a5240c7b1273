"""Process, signal, time and identity calls: fork/exec/exit/wait, kill, nanosleep, getpid, ..."""
from __future__ import annotations

from . import fmt as F
from .decode import STRING, Var, call, derived, int_arg, pointer_arg, uint_arg, ulong_arg, ustr, ustr_quoted, with_mem

call("fork", [], "")
call("vfork", [], "")
call("execve", [("filename", ustr_quoted(1)), ("args", Var("", STRING, lambda v: F.argv(v.ctx, v.args[1]))),
                ("env_str", Var("", STRING, lambda v: F.argv(v.ctx, v.args[2])))],
     "%s, %s, %s", "filename", "args", "env_str")
call("exit", [("status", int_arg(1))], "%d", "status")
call("exit_group", [("status", int_arg(1))], "%d", "status")


def _wait_status(v):
    if F.s64(v.ret or 0) <= 0:
        return "N/A"
    addr = v.get("status_uaddr")
    if addr == 0:
        return "NULL"
    from ..builtins.fn_umem import read_user
    data = read_user(v.ctx, addr, 4)
    st = int.from_bytes(data, "little", signed=True) if len(data) == 4 else 0
    return _wait_status_str(st)


def _wait_status_str(f: int) -> str:
    sig = f & 0x7F
    if sig == 0:
        return "WEXITSTATUS=%d" % ((f & 0xFF00) >> 8)
    if sig == 0x7F:
        return "WSTOPSIG=%s" % F.signal_name((f & 0xFF00) >> 8)
    return "WTERMSIG=%s%s" % (F.signal_name(sig), "|WCOREDUMP" if f & 0x80 else "")


call("wait4", [("pid", int_arg(1)), ("status_uaddr", pointer_arg(2)), ("options", int_arg(3)),
               ("options_str", derived(F.wait4_opts, "options")), ("rusage_uaddr", pointer_arg(4))],
     "%d, %p, %s, %p", "pid", "status_uaddr", "options_str", "rusage_uaddr",
     ret_vars=[("status_uaddr", pointer_arg(2)), ("status_str", Var("", STRING, _wait_status))])
call("kill", [("pid", int_arg(1)), ("sig", int_arg(2)), ("sig_name", derived(F.signal_name, "sig"))],
     "%d, %s", "pid", "sig_name")
call("tgkill", [("tgid", int_arg(1)), ("pid", int_arg(2)), ("sig", int_arg(3)),
                ("sig_str", derived(F.signal_name, "sig"))], "%d, %d, %s", "tgid", "pid", "sig_str")
call("rt_sigreturn", [], "")
call("nanosleep", [("req_uaddr", pointer_arg(1)), ("rem_uaddr", pointer_arg(2)),
                   ("req_str", with_mem(F.timespec, "req_uaddr"))], "%s, %p", "req_str", "rem_uaddr")
for _n in ("getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "sched_yield"):
    call(_n, [], "")
call("set_tid_address", [("tidptr_uaddr", pointer_arg(1))], "%p", "tidptr_uaddr")
_GRND = ((1, "GRND_NONBLOCK"), (2, "GRND_RANDOM"))
call("getrandom", [("buf", ustr_quoted(1)), ("buf_unquoted", ustr(1)), ("count", ulong_arg(2)),
                   ("flags", uint_arg(3)), ("flags_str", derived(lambda f: F.lookup_or(_GRND, f), "flags"))],
     "%s, %u, %s", "buf", "count", "flags_str")
