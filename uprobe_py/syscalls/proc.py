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

# --- more process, time and limit calls ---------------------------------------------------------
from . import flags as X  # noqa: E402

call("clone", [("clone_flags", ulong_arg(1)), ("stack_start", pointer_arg(2)), ("parent_tid_uaddr", pointer_arg(3)),
               ("child_tid_uaddr", pointer_arg(4))],
     lambda v: X.sprintf("%s, %p, %p, %p", X.fork_flags(v.get("clone_flags")), v.get("stack_start"),
                         v.get("parent_tid_uaddr"), v.get("child_tid_uaddr")))
call("execveat", [("dirfd", int_arg(1)), ("dirfd_str", derived(F.dfd, "dirfd")), ("filename", ustr_quoted(2)),
                  ("args", Var("", STRING, lambda v: F.argv(v.ctx, v.args[2]))),
                  ("env_str", Var("", STRING, lambda v: F.argv(v.ctx, v.args[3]))), ("flags", int_arg(5)),
                  ("flags_str", derived(F.at_flags, "flags"))],
     "%s, %s, %s, %s, %s", "dirfd_str", "filename", "args", "env_str", "flags_str")
call("set_robust_list", [("list_head_uaddr", pointer_arg(1)), ("len", ulong_arg(2))], "%p, %u",
     "list_head_uaddr", "len")
call("arch_prctl", [("code", int_arg(1)), ("code_str", derived(X.arch_prctl_code, "code")), ("addr", ulong_arg(2))],
     "%s, %u", "code_str", "addr")
call("prlimit64", [("pid", int_arg(1)), ("resource", int_arg(2)), ("resource_str", derived(X.rlimit_resource, "resource")),
                   ("new_rlim_uaddr", pointer_arg(3)), ("new_rlim_str", with_mem(X.rlimit_u, "new_rlim_uaddr")),
                   ("old_rlim_uaddr", pointer_arg(4))],
     "%d, %s, %s, %p", "pid", "resource_str", "new_rlim_str", "old_rlim_uaddr")
call("getrlimit", [("resource", int_arg(1)), ("rlim_uaddr", pointer_arg(2))],
     lambda v: X.sprintf("%s, %p", X.rlimit_resource(v.get("resource")), v.get("rlim_uaddr")))
call("setrlimit", [("resource", uint_arg(1)), ("resource_str", derived(X.rlimit_resource, "resource")),
                   ("rlim_uaddr", pointer_arg(2)), ("rlim_str", with_mem(X.rlimit_u, "rlim_uaddr"))],
     "%s, %s", "resource_str", "rlim_str")
call("getrusage", [("who", int_arg(1)), ("who_str", derived(X.rusage_who, "who")), ("usage_uaddr", pointer_arg(2))],
     "%s, %p", "who_str", "usage_uaddr")
call("uname", [("name_uaddr", pointer_arg(1))], "%p", "name_uaddr")
call("gettimeofday", [("tv_uaddr", pointer_arg(1)), ("tz_uaddr", pointer_arg(2))], "%p, %p", "tv_uaddr", "tz_uaddr")
call("clock_gettime", [("clk_id", int_arg(1)), ("clk_id_str", derived(X.clock_id, "clk_id")),
                       ("tp_uaddr", pointer_arg(2))], "%s, %p", "clk_id_str", "tp_uaddr")
for _n in ("sched_getaffinity", "sched_setaffinity"):
    call(_n, [("pid", int_arg(1)), ("len", uint_arg(2)), ("mask_uaddr", pointer_arg(3))], "%d, %u, %p",
         "pid", "len", "mask_uaddr")
