"""The ptrace engine's per-hit loop: the common stops handled inline, everything else handed back.

This is the path bench/ptrace_bench.py and bench/syscall_bench.py measure. Per stop it is
one call into C (`up_next`: the previous hit's resume, then the blocking wait and the new
stop's registers), a dictionary lookup decided at start-up (`AddressSpace.fast` for a
breakpoint, the engine's `_sys_cache` for a seccomp stop), the handlers called directly
(the session's `fire_in` inlined: no call per probe in between), and back. Breakpoints
that need more (a pending `.return` frame, stepping, deferred work) and every other kind
of stop go to the engine's methods (`_trap`, `_syscall_stop`, `_status`). With a deadline
(timers) the wait is `up_wait` with a timeout and the resume a call of its own.
"""
from __future__ import annotations

import time
from typing import Any, Optional

from . import hitwait
from . import syscalls as sc
from ..runtime.errors import ExitRequested, StapRuntimeError


def poll_loop(eng: Any, deadline: Optional[float], blocking: bool) -> None:
    up_wait, status_p, who_p = hitwait.up_wait, hitwait.status_p, hitwait.who_p
    up_next, sysargs = hitwait.up_next, hitwait.sysargs
    up_resume, restart = hitwait.resume_fast, hitwait.restart
    TRAP, SECCOMP, SYSCALL, STOP = hitwait.TRAP, hitwait.SECCOMP, hitwait.SYSCALL, hitwait.STOP
    NOCHILD, RESUME_FAILED = hitwait.NOCHILD, hitwait.RESUME_FAILED
    PTRACE_CONT, PTRACE_SYSCALL = sc.PTRACE_CONT, sc.PTRACE_SYSCALL
    regs, tasks, session = eng.regs, eng.tasks, eng.session
    ctx = eng.ctx
    extra = ctx.extra
    handlers, report_error = session.program.handlers, session.report_error
    sys_cache, tgids, running, in_syscall = eng._sys_cache, eng.tgid, eng.running, eng.in_syscall
    ctx.regs = regs
    monotonic = time.monotonic
    # blocking: a hit's resume is made by the next wait's call (up_next: one crossing into C)
    r_tid = r_req = r_set = 0
    while tasks and not session.exit_requested:
        if blocking:
            kind = up_next(r_tid, r_req, r_set, regs, status_p, who_p)
            r_tid = 0
            if kind == RESUME_FAILED:
                running.discard(who_p[0])       # gone meanwhile: its exit status is on its way
                continue
        else:
            timeout_ns = -1 if deadline is None else max(0, int((deadline - monotonic()) * 1e9))
            kind = up_wait(-1, timeout_ns, regs, status_p, who_p)
        tid = who_p[0]
        if kind == TRAP:
            space = tasks.get(tid)
            if space is None or eng.deferred or eng.sysmode or eng.stepmode:
                eng._trap(tid)
                continue
            addr = regs.rip - 1
            fast = space.fast.get(addr)
            if fast is None or addr in space.pending:
                eng._trap(tid)
                continue
            probes, module, resume = fast           # see AddressSpace.fast
            regs.rip = addr
            ctx.pid, ctx.tid, ctx.memory, ctx.is_return = space.pid, tid, space.mem, False
            extra["module"] = module
            req = 0
        elif kind == SECCOMP and tid in tasks and not (eng.deferred or eng.sysmode or eng.stepmode):
            # the common system-call stop (-c command, seccomp filter): as _syscall_entry
            tgid = tgids.get(tid, tid)
            nr = regs.orig_rax
            probes, exit_too = sys_cache.get((tgid, nr, False)) or eng._syscall_probes(tgid, nr, False)
            if probes or exit_too:
                args = sysargs()                    # (rdi, rsi, rdx, r10, r8, r9), copied by C
            req = PTRACE_CONT
            if exit_too:
                in_syscall[tid] = (nr, args)
                req = PTRACE_SYSCALL
            if probes:
                space = tasks[tid]
                mem = space.mem if space is not None else eng.mems.get(tgid)
                if mem is None:
                    eng._fire_syscall(tid, tgid, regs, probes, (nr, args, None), False)
                    probes = ()
                else:
                    ctx.pid, ctx.tid, ctx.memory, ctx.is_return = tgid, tid, mem, False
                    extra["syscall"] = (nr, args, None)
        elif kind == SECCOMP or kind == SYSCALL:
            eng._syscall_stop(tid, kind)
            continue
        elif kind == STOP:
            eng._status(tid, status_p[0])
            continue
        elif kind == NOCHILD:
            for t in list(tasks):
                eng._exited(t, None)
            return
        else:                           # TIMEOUT, INTR: back to the session
            return
        for p in probes:                # the session's fire_in, inlined
            if session.exit_requested:
                break
            ctx.pp = p.pp
            ctx.probe_index = i = p.index
            ctx.nesting = 0
            try:
                handlers[i](ctx)
            except StapRuntimeError as e:
                report_error(e)
            except ExitRequested:
                pass
            except RecursionError:
                report_error(StapRuntimeError("MAXNESTING exceeded"))
        if session.exit_requested:
            running.discard(tid)
            if not req:
                hitwait.setregs(tid, regs)      # stopped at the probe address; stop() detaches
            return
        if not req:                             # a breakpoint: on to the displaced instruction
            regs.rip = resume
            if blocking:
                r_tid, r_req, r_set = tid, PTRACE_CONT, 1
            elif up_resume(tid, regs, 0):
                running.discard(tid)
        elif blocking:
            r_tid, r_req, r_set = tid, req, 0
        else:
            restart(tid, req, 0)
    if r_tid:                           # the loop ends with a hit's resume still to make
        if (r_set and up_resume(r_tid, regs, 0)) or (not r_set and restart(r_tid, r_req, 0)):
            running.discard(r_tid)
