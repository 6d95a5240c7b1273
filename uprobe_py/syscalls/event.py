"""Waiting and event calls: futex, poll/ppoll, select/pselect6, epoll_*, eventfd, timerfd_*,
inotify_*, clock_nanosleep (stap's sysc_*.stp variable names and argstr formats)."""
from __future__ import annotations

from . import flags as X
from . import fmt as F
from .decode import (LONG, Var, by_call, call, const, derived, int_arg, pointer_arg, uint_arg, ulong_arg, ustr,
                     ustr_quoted, with_mem)

call("futex", [("futex_uaddr", pointer_arg(1)), ("op", int_arg(2)), ("val", int_arg(3)),
               ("utime_uaddr", pointer_arg(4)), ("uaddr2_uaddr", pointer_arg(5)), ("val3", int_arg(6))],
     X.futex_argstr)
call("poll", [("ufds_uaddr", pointer_arg(1)), ("nfds", uint_arg(2)), ("timeout", int_arg(3))],
     "%p, %u, %d", "ufds_uaddr", "nfds", "timeout")
call("ppoll", [("fds_uaddr", pointer_arg(1)), ("nfds", uint_arg(2)), ("tsp", pointer_arg(3)),
               ("tsp_str", with_mem(F.timespec, "tsp")), ("sigmask", pointer_arg(4)), ("sigsetsize", ulong_arg(5))],
     "%p, %u, %s, %p, %d", "fds_uaddr", "nfds", "tsp_str", "sigmask", "sigsetsize")
call("select", [("n", int_arg(1)), ("readfds_uaddr", pointer_arg(2)), ("writefds_uaddr", pointer_arg(3)),
                ("exceptfds_uaddr", pointer_arg(4)), ("timeout_uaddr", pointer_arg(5)),
                ("timeout_str", with_mem(X.timeval_u, "timeout_uaddr"))],
     "%d, %p, %p, %p, %s", "n", "readfds_uaddr", "writefds_uaddr", "exceptfds_uaddr", "timeout_str")
call("pselect6", [("nfds", int_arg(1)), ("readfds", pointer_arg(2)), ("writefds", pointer_arg(3)),
                  ("exceptfds", pointer_arg(4)), ("timeout", pointer_arg(5)), ("sigmask", pointer_arg(6)),
                  ("timeout_str", with_mem(F.timespec, "timeout"))],
     "%d, %p, %p, %p, %s, %p", "nfds", "readfds", "writefds", "exceptfds", "timeout_str", "sigmask")


def _epoll_create_argstr(v):
    if v.nr == X_NR("epoll_create1") and v.get("flags") != 0:
        return X.epoll_create1_flags(v.get("flags"))
    return "%d" % v.get("size")


def X_NR(name: str) -> int:
    from .table import NAME_TO_NR
    return NAME_TO_NR[name]


call("epoll_create", [("size", by_call({"epoll_create1": const(0)}, int_arg(1))),
                      ("flags", by_call({"epoll_create1": int_arg(1)}, const(0)))],
     _epoll_create_argstr, covers=("epoll_create", "epoll_create1"),
     names={"epoll_create1": lambda v: "epoll_create1" if F.s32(v.args[0]) else "epoll_create"})
call("epoll_ctl", [("epfd", int_arg(1)), ("op", int_arg(2)), ("op_str", derived(X.epoll_op, "op")),
                   ("fd", int_arg(3)), ("event_uaddr", pointer_arg(4))],
     "%d, %s, %d, %p", "epfd", "op_str", "fd", "event_uaddr")
call("epoll_wait", [("epfd", int_arg(1)), ("events_uaddr", pointer_arg(2)), ("maxevents", int_arg(3)),
                    ("timeout", int_arg(4))], "%d, %p, %d, %d", "epfd", "events_uaddr", "maxevents", "timeout")
call("epoll_pwait", [("epfd", int_arg(1)), ("events_uaddr", pointer_arg(2)), ("maxevents", int_arg(3)),
                     ("timeout", int_arg(4)), ("sigmask_uaddr", pointer_arg(5)), ("sigsetsize", ulong_arg(6))],
     "%d, %p, %d, %d, %p, %d", "epfd", "events_uaddr", "maxevents", "timeout", "sigmask_uaddr", "sigsetsize")


def _eventfd_argstr(v):
    if v.nr == X_NR("eventfd2"):
        return "%d, %s" % (v.get("count"), v.get("flags_str"))
    return "%d" % v.get("count")


call("eventfd", [("count", uint_arg(1)), ("flags", by_call({"eventfd2": int_arg(2)}, const(0))),
                 ("flags_str", by_call({"eventfd2": derived(X.eventfd2_flags, "flags")}, const("0x0")))],
     _eventfd_argstr, covers=("eventfd", "eventfd2"), names={"eventfd2": "eventfd2"})
call("inotify_init", [("flags", by_call({"inotify_init1": int_arg(1)}, const(0)))],
     lambda v: X.inotify_init1_flags(v.get("flags")) if v.nr == X_NR("inotify_init1") else "",
     covers=("inotify_init", "inotify_init1"), names={"inotify_init1": "inotify_init1"})
call("inotify_add_watch", [("fd", int_arg(1)), ("mask", uint_arg(3)), ("mask_str", derived(X.inotify_mask, "mask")),
                           ("path_uaddr", pointer_arg(2)), ("path", ustr_quoted(2)), ("path_unquoted", ustr(2))],
     "%d, %s, %s", "fd", "path", "mask_str")
call("inotify_rm_watch", [("fd", int_arg(1)), ("wd", int_arg(2))], "%d, %d", "fd", "wd")
call("timerfd_create", [("clockid", int_arg(1)), ("clockid_str", derived(X.clock_id, "clockid")),
                        ("flags", int_arg(2)), ("flags_str", derived(X.timerfd_flags, "flags"))],
     "%s, %s", "clockid_str", "flags_str")
call("timerfd_gettime", [("fd", int_arg(1)), ("value_uaddr", pointer_arg(2))], "%d, %p", "fd", "value_uaddr")
call("timerfd_settime", [("fd", int_arg(1)), ("flags", int_arg(2)), ("flags_str", derived(X.timerfd_flags, "flags")),
                         ("value_uaddr", pointer_arg(3)), ("value_str", with_mem(X.itimerspec_u, "value_uaddr")),
                         ("ovalue_uaddr", pointer_arg(4))],
     "%d, %s, %s, %p", "fd", "flags_str", "value_str", "ovalue_uaddr")
call("clock_nanosleep", [("clk_id", int_arg(1)), ("clk_id_str", derived(X.clock_id, "clk_id")),
                         ("flags", int_arg(2)), ("flags_str", derived(X.nanosleep_flags, "flags")),
                         ("req_uaddr", pointer_arg(3)), ("rem_uaddr", pointer_arg(4)),
                         ("req_str", with_mem(F.timespec, "req_uaddr"))],
     "%s, %s, %s, %p", "clk_id_str", "flags_str", "req_str", "rem_uaddr")
_ = (LONG, Var)
