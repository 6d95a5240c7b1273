"""The ptrace engine: process probes in the `-c` command's whole hierarchy and in attached processes.

Tracees. The `-c` child is seized by the tracer right after the fork, while it still
waits on its go-pipe (runtime/target.py), with PTRACE_O_EXITKILL (a tracer that dies
never leaves int3s behind in a running target). Processes named by `-x PID` or by
`process(PID)` probes are seized thread by thread and interrupted; they run on when the
session ends. Either way PTRACE_O_TRACECLONE/FORK/VFORK/EXEC make every thread, child and
new program of the hierarchy a tracee too: a thread shares its process's AddressSpace
(address_space.py), a fork child gets a copy of it (its memory holds the same int3s), a
vfork child shares it until it execs, and an exec makes a new one (probes re-resolved
against the new image: only the probes of the program it runs, and of its libraries).

A hit (one stop; relocate.py): a SIGTRAP whose rip-1 holds one of our int3s. The handlers
run with the context filled (pid, tid, registers, memory, pp), then the thread goes past
the displaced instruction without a second stop: rip set to the instruction's copy in a
scratch page (scratch.py), to a jump's target, or a call emulated; a single-step only
for the rare instructions that cannot move. Waiting and resuming are in C
(hitwait.py); the tracer and a single-threaded tracee share a CPU (affinity.py).

Signals go to the tracee unchanged; group-stops are kept (PTRACE_LISTEN). The tracee's
exit ends the session for `-c` (its status goes to the TargetCommand, reaped once);
with -x the script runs independently of the process's lifespan, as stap's does.
The engine ends with the session: every thread is stopped, every breakpoint removed
(the original bytes back), each thread resumed where it was (a pending trap of one of
our int3s undone), and detached; processes attached with -x keep running unharmed.
"""
from __future__ import annotations

import os
import signal
import time
from typing import Any, Callable, Optional

from . import hitwait
from . import syscalls as sc
from ..runtime.context import Context
from .address_space import AddressSpace
from .breakpoints import exe_path
from .fastloop import poll_loop
from .affinity import Pinning
from .relocate import call_target
from .lifecycle import LifecycleEvents, LifecycleTable, is_lifecycle_probe
from .stepping import INSN_KINDS, Stepping
from .syscall_stops import SyscallEvents, SyscallTable, is_syscall_probe, seccomp_filter

GROUP_STOP_SIGNALS = (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
FOLLOW = sc.PTRACE_O_TRACEEXEC | sc.PTRACE_O_TRACECLONE | sc.PTRACE_O_TRACEFORK | sc.PTRACE_O_TRACEVFORK
NEW_TASK_EVENTS = (sc.PTRACE_EVENT_FORK, sc.PTRACE_EVENT_VFORK, sc.PTRACE_EVENT_CLONE)


def attach_child(pid: int, options: Optional[int] = None) -> None:
    """Called by TargetCommand in the tracer right after fork (the child waits on its pipe)."""
    sc.seize(pid, options if options is not None else FOLLOW | sc.PTRACE_O_EXITKILL)


def shared_engine(session: Any, probes: list[Any], fire: Callable[..., None]) -> Optional["PtraceEngine"]:
    """One ptrace engine per session (a process has one tracer): the first family that needs
    it (process probes, syscall aliases) makes it, later ones add their probes to it."""
    eng = getattr(session, "ptrace_engine", None)
    if eng is not None:
        eng.add_probes(probes)
        return None
    eng = session.ptrace_engine = PtraceEngine(session, probes, fire)
    if getattr(session, "opts", None) is not None and session.opts.target_cmd:
        session.trace_target = eng           # TargetCommand reads trace_options and seccomp
    return eng


def thread_group(tid: int) -> int:
    try:
        with open(f"/proc/{tid}/status") as f:
            for line in f:
                if line.startswith("Tgid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return tid


class AttachError(Exception):
    pass


class PtraceEngine(Stepping, LifecycleEvents, SyscallEvents):
    def __init__(self, session: Any, probes: list[Any], fire: Callable[..., None]) -> None:
        self.session = session
        # the engine's own Context: what stays the same from hit to hit is set once
        self.ctx = Context(session)
        self.ctx.user_mode = True

        def fire_probe(p: Any) -> None:     # as session.fire_event: nothing runs once exit() was called
            if not session.exit_requested:
                session.fire_in(self.ctx, p)
        self.fire = fire_probe
        del fire
        self.probes: list[Any] = []
        self.add_probes(probes)
        self.sysmode: set[int] = set()           # attached tasks resumed with PTRACE_SYSCALL
        self.in_syscall: dict[int, tuple[int, tuple[int, ...]]] = {}   # tid -> (nr, args) until its exit
        self.mems: dict[int, sc.Memory] = {}     # tgid -> memory, for processes without breakpoints
        self.exes: dict[int, str] = {}           # tgid -> its program (known after it died too)
        self._sys_cache: dict[tuple[int, int, bool], tuple[list[Any], bool]] = {}
        self.stepmode: dict[int, int] = {}       # tid -> PTRACE_SINGLESTEP / PTRACE_SINGLEBLOCK (.insn probes)
        self.block_ok: Optional[bool] = None     # does block-stepping work here (BTF)?
        self.block_prev: dict[int, int] = {}
        self.tasks: dict[int, Optional[AddressSpace]] = {}   # traced thread -> its space (None: nothing probed)
        self.tgid: dict[int, int] = {}
        self.running: set[int] = set()
        self.orphans: set[int] = set()           # new tasks stopped before their parent's event
        self.expected: set[int] = set()          # new tasks whose first stop is still to come
        self.deferred: dict[int, list[int]] = {} # signals held while a scratch page was mapped
        self.root = 0                            # the -c process: its exit ends the session
        self.attached_pids: list[int] = []       # -x / process(PID): detached, running, at the end
        self.regs = hitwait.REGS
        self.pinning = Pinning()
        self.hits = 0
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self._old_chld: Any = None
        self._old_wakeup: Optional[int] = -1

    def add_probes(self, probes: list[Any]) -> None:
        self.probes = sorted(self.probes + list(probes), key=lambda p: p.index)
        self.bp_probes = [p for p in self.probes if not is_syscall_probe(p) and not is_lifecycle_probe(p)
                          and p.spec.params.get("kind") not in INSN_KINDS]
        self.insn_probes = [p for p in self.probes if p.spec.params.get("kind") in INSN_KINDS]
        self.life = LifecycleTable(self.probes)
        self.syscalls = SyscallTable(self.probes)
        self.trace_options = FOLLOW | sc.PTRACE_O_EXITKILL
        self.seccomp: Optional[bytes] = None
        if self.syscalls:
            self.trace_options |= sc.PTRACE_O_TRACESECCOMP | sc.PTRACE_O_TRACESYSGOOD
            self.seccomp = seccomp_filter(self.syscalls.numbers())

    @property
    def attached(self) -> bool:
        return bool(self.tasks)

    # --- the Engine protocol ---------------------------------------------------------
    def start(self, now: float) -> None:
        child = getattr(self.session, "child", None)
        pids = sorted({p.spec.params["pid"] for p in self.probes if p.spec.params.get("pid")}
                      | ({self.session.opts.target_pid} if getattr(self.session.opts, "target_pid", 0) else set()))
        if child is not None:
            err = getattr(child, "trace_error", None)
            if err is not None or not getattr(child, "traced", False):
                return self._fail(f"cannot trace the -c command: {err or 'not attached'}")
            self.root = child.pid
            self._adopt(child.pid, None, child.pid)
        elif not pids:
            return self._fail("process probes need a process to trace: -c CMD, -x PID or process(PID) "
                              "(uprobe-py does not probe every process that runs a program)")
        # Between polls a stop is announced by SIGCHLD; its handler must be the C-level one
        # that writes the wakeup fd (a Python handler alone can be left pending when SIGCHLD
        # lands between the last bytecode and epoll_wait). Inside poll, SIGCHLD is blocked
        # and waited for in C (hitwait.py), so a hit costs no handler at all.
        self._old_chld = signal.signal(signal.SIGCHLD, self._on_sigchld)
        try:
            self._old_wakeup = signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)
        except ValueError:            # not the main thread (embedders): Python handler only
            self._old_wakeup = None
        for pid in pids:
            try:
                self._attach(pid)
            except AttachError as e:
                return self._fail(str(e))
        self._on_sigchld(0, None)     # a stop may have come before the handler existed

    def next_timeout(self, now: float) -> Optional[float]:
        return None

    def filenos(self) -> list[int]:
        return [self._r]

    def poll(self, now: float) -> None:
        """Handle the tracees' stops until none is pending and the session has something
        else to do: its next deadline (`session.poll_deadline`), a signal, or exit."""
        try:
            os.read(self._r, 4096)
        except BlockingIOError:
            pass
        deadline = getattr(self.session, "poll_deadline", 0.0)
        if hitwait.NATIVE:
            self._poll_native(deadline)
            return
        while self.tasks and not self.session.exit_requested:
            if deadline is None:
                timeout_ns = -1 if hitwait.NATIVE else 50_000_000
            else:
                timeout_ns = max(0, int((deadline - time.monotonic()) * 1e9))
            kind, st, who = hitwait.wait(-1, timeout_ns, self.regs)
            if kind == hitwait.TRAP:
                self._trap(who)
            elif kind == hitwait.SECCOMP or kind == hitwait.SYSCALL:
                self._syscall_stop(who, kind)
            elif kind == hitwait.STOP:
                self._status(who, st)
            elif kind == hitwait.NOCHILD:
                for tid in list(self.tasks):
                    self._exited(tid, None)
                return
            else:                           # TIMEOUT, INTR: back to the session
                return

    def _poll_native(self, deadline: Optional[float]) -> None:
        """poll() with the common hit handled inline: the per-hit path (measured in
        bench/ptrace_bench.py) is this loop, one C wait, the handlers and one C resume.
        With no deadline the wait is one blocking waitpid, SIGCHLD being left at its default
        (discarded, no handler) meanwhile; its handler and a wake-up byte come back after, so
        a stop that arrives later still wakes the session's selector."""
        blocking = deadline is None and self._old_chld is not None
        if blocking:
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            except ValueError:               # not the main thread
                blocking = False
        try:
            poll_loop(self, deadline, blocking)
        finally:
            if blocking:
                signal.signal(signal.SIGCHLD, self._on_sigchld)
                self._on_sigchld(0, None)

    def stop(self) -> None:
        """Session end: breakpoints out, tracees detached (running on), handler restored."""
        try:
            if self.tasks:
                self._detach()
        finally:
            self.pinning.release(tracee_alive=False)     # the tracer's own mask (if still set)
            if self._old_chld is not None:
                if self._old_wakeup is not None:
                    signal.set_wakeup_fd(self._old_wakeup)
                signal.signal(signal.SIGCHLD, self._old_chld)
                self._old_chld = None
            for space in {id(s): s for s in self.tasks.values() if s is not None}.values():
                space.close()
            for mem in self.mems.values():
                mem.close()
            for fd in (self._r, self._w):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._r = self._w = -1

    # --- tracees -------------------------------------------------------------------------
    def _on_sigchld(self, signum: int, frame: Any) -> None:
        try:
            os.write(self._w, b"c")
        except OSError:
            pass

    def _fail(self, msg: str) -> None:
        from ..runtime.errors import StapRuntimeError
        err = StapRuntimeError(msg)
        err.has_location = False            # type: ignore[attr-defined]
        self.session.report_error(err)
        self.session.request_exit()

    def _adopt(self, tid: int, space: Optional[AddressSpace], tgid: int) -> None:
        self.tasks[tid] = space
        self.tgid[tid] = tgid
        self.running.add(tid)

    def _attach(self, pid: int) -> None:
        """-x PID / process(PID): seize every thread (and any created meanwhile), stop them
        all, arm the probes, let them run on."""
        if not os.path.isdir(f"/proc/{pid}"):
            raise AttachError(f"cannot attach to process {pid}: no such process")
        seen: set[int] = set()
        while True:
            try:
                new = {int(t) for t in os.listdir(f"/proc/{pid}/task")} - seen
            except OSError:
                raise AttachError(f"cannot attach to process {pid}: it has exited") from None
            if not new:
                break
            for tid in sorted(new):
                try:
                    sc.seize(tid, self.trace_options & ~sc.PTRACE_O_EXITKILL)   # -x: runs on if we die
                    sc.interrupt(tid)
                except sc.PtraceError as e:
                    if tid == pid or not seen:
                        why = os.strerror(e.errno or 1)
                        hint = " (is it another user's, or traced already?)" if e.errno == 1 else ""
                        raise AttachError(f"cannot attach to process {pid}: ptrace: {why}{hint}") from None
                    continue                 # a thread that just exited
                seen.add(tid)
                self.tgid[tid] = pid
        for tid in seen:                     # each reports its interrupt stop
            while True:
                try:
                    _, st = os.waitpid(tid, sc.WALL)
                except ChildProcessError:
                    break
                if os.WIFEXITED(st) or os.WIFSIGNALED(st):
                    break
                if st >> 16 == sc.PTRACE_EVENT_STOP:
                    self.tasks[tid] = None
                    break
                if st >> 16 == 0:            # a signal on its way in: delivered on resume
                    self.deferred.setdefault(tid, []).append(os.WSTOPSIG(st))
                sc.cont(tid, 0)
        self.attached_pids.append(pid)
        space = AddressSpace.for_image(pid, pid, self.bp_probes, self._wait_trap, at_exec=False)
        for tid in list(self.tasks):
            if self.tgid.get(tid) == pid:
                self.tasks[tid] = space
        if space is not None and sum(1 for t in self.tasks if self.tgid.get(t) == pid) == 1:
            self.pinning.pin(pid)
        mine = [t for t in self.tasks if self.tgid.get(t) == pid]
        self.exes[pid] = exe_path(pid)
        for t in mine:
            self._set_stepmode(t, pid)
        self._fire_life("begin", pid, pid)
        if self.syscalls and any(self.syscalls.for_process(pid, exe_path(pid))):
            self.sysmode.update(mine)        # no seccomp filter here: PTRACE_SYSCALL (see syscall_stops.py)
        for tid in mine:
            self._resume(tid)

    def _wait_trap(self, tid: int) -> Optional[int]:
        """Wait for thread `tid`'s next SIGTRAP stop (a scratch page's mmap); other signals
        are kept for later delivery. None when it ended."""
        while True:
            try:
                _, st = os.waitpid(tid, sc.WALL)
            except ChildProcessError:
                return None
            if os.WIFEXITED(st) or os.WIFSIGNALED(st):
                self._exited(tid, st)
                return None
            sig, event = os.WSTOPSIG(st), st >> 16
            if sig == signal.SIGTRAP and event == 0:
                return st
            if event == 0:
                self.deferred.setdefault(tid, []).append(sig)
            sc.cont(tid, 0)

    def _resume(self, tid: int, sig: int = 0) -> None:
        if not sig and tid in self.deferred:
            sig = self.deferred[tid].pop(0)
            if not self.deferred[tid]:
                del self.deferred[tid]
        if tid in self.stepmode:
            request = self.stepmode[tid]
        elif tid in self.sysmode or tid in self.in_syscall:
            request = sc.PTRACE_SYSCALL
        else:
            request = sc.PTRACE_CONT
        hitwait.restart(tid, request, sig)   # an error: gone meanwhile, its exit status is on its way
        self.running.add(tid)

    def _resume_regs(self, tid: int, regs: Any, sig: int = 0) -> None:
        """Registers written back, then resumed (PTRACE_SYSCALL for a task in system-call mode)."""
        try:
            if tid in self.stepmode:
                hitwait.setregs(tid, regs)
                sc.ptrace(self.stepmode[tid], tid, 0, sig)
            elif tid in self.sysmode:
                hitwait.setregs(tid, regs)
                sc.syscall(tid, sig)
            else:
                hitwait.resume(tid, regs, sig)
        except sc.PtraceError:
            pass
        self.running.add(tid)

    def _exited(self, tid: int, status: Optional[int]) -> None:
        space = self.tasks.pop(tid, None)
        self.running.discard(tid)
        self.orphans.discard(tid)
        self.expected.discard(tid)
        self.sysmode.discard(tid)
        self.stepmode.pop(tid, None)
        self.in_syscall.pop(tid, None)
        tgid = self.tgid.pop(tid, tid)
        if self.life and status is not None:
            self._fire_life("end" if tid == tgid else "thread.end", tgid, tid)
        if tid == tgid:
            self.exes.pop(tgid, None)
        if space is not None:
            space.drop_thread(tid)
            if not any(s is space for s in self.tasks.values()):
                space.close()
        if tid == self.root:
            self._root_gone(status)

    def _root_gone(self, status: Optional[int]) -> None:
        """The -c process exited: hand the status to the TargetCommand and end the session."""
        self.pinning.release(tracee_alive=False)
        child = getattr(self.session, "child", None)
        if child is not None and status is not None and child.status is None:
            child.status = status
        self.root = 0
        self.session.request_exit()

    # --- events ----------------------------------------------------------------------------
    def _status(self, tid: int, st: int) -> None:
        """Any stop or exit but a SIGTRAP signal stop (those go to _trap)."""
        if os.WIFEXITED(st) or os.WIFSIGNALED(st):
            self._exited(tid, st)
            return
        self.running.discard(tid)
        sig, event = os.WSTOPSIG(st), st >> 16
        if tid not in self.tasks:            # a new task, stopped before its parent's event
            self.orphans.add(tid)
            return
        if event == sc.PTRACE_EVENT_SECCOMP:  # a probed system call's entry (the -c filter)
            self._syscall_entry(tid)
        elif event == 0 and sig == signal.SIGTRAP | 0x80:    # PTRACE_SYSCALL's entry/exit stop
            if tid in self.in_syscall:
                self._syscall_exit(tid)
            elif tid in self.sysmode:
                self._syscall_entry(tid)
            else:
                self._resume(tid)
        elif event == sc.PTRACE_EVENT_EXEC:
            self.syscalls.forget(tid)         # (an execve being traced keeps its exit stop)
            self._sys_cache = {k: v for k, v in self._sys_cache.items() if k[0] != tid}
            self._on_exec(tid)
            self._resume(tid)
        elif event in NEW_TASK_EVENTS:
            self._on_new_task(tid, event)
            self._resume(tid)
        elif event == sc.PTRACE_EVENT_STOP:
            if tid in self.expected:         # a new task's first stop
                self.expected.discard(tid)
                self._resume(tid)
            elif sig in GROUP_STOP_SIGNALS:  # group-stop: stay stopped until SIGCONT
                try:
                    sc.listen(tid)
                except sc.PtraceError:
                    pass
                self.running.add(tid)
            else:                            # an interrupt stop nobody waits for
                self._resume(tid)
        else:
            self._resume(tid, sig)

    def _on_new_task(self, tid: int, event: int) -> None:
        try:
            new = sc.geteventmsg(tid)
        except sc.PtraceError:
            return
        space = self.tasks.get(tid)
        parent = self.tgid.get(tid, tid)
        if event == sc.PTRACE_EVENT_CLONE and thread_group(new) == parent:
            self._adopt(new, space, parent)
            self.pinning.unpin_all([t for t in self.tasks if self.tgid.get(t) == parent])
            self._fire_life("thread.begin", parent, new)
        else:
            if event == sc.PTRACE_EVENT_VFORK:     # shares the parent's memory until it execs
                self._adopt(new, space, new)
            else:
                child = space.fork_copy(new, tid, self._wait_trap) if space is not None else None
                self._adopt(new, child, new)
            self.pinning.forget(new)
            self.exes[new] = self.exes.get(parent) or exe_path(new)
            self._fire_life("begin", new, new)
        self.running.discard(new)
        if tid in self.sysmode:
            self.sysmode.add(new)
        if tid in self.stepmode:
            self.stepmode[new] = self.stepmode[tid]
        if new in self.orphans:              # its first stop came before this event
            self.orphans.discard(new)
            self._resume(new)
        else:
            self.expected.add(new)

    def _on_exec(self, tid: int) -> None:
        """A new program in this process (tid is its pid now): probes re-resolved for it."""
        try:
            former = sc.geteventmsg(tid)
        except sc.PtraceError:
            former = tid
        if former != tid:
            self.tasks.pop(former, None)
            self.running.discard(former)
            if former in self.in_syscall:    # the execve of a thread: its exit is reported as tid's
                self.in_syscall[tid] = self.in_syscall.pop(former)
        mem = self.mems.pop(tid, None)       # the old image's memory
        if mem is not None:
            mem.close()
        self.exes.pop(tid, None)
        old = self.tasks.get(tid)
        for t in [t for t in self.tasks if t != tid and self.tgid.get(t) == tid]:
            self.tasks.pop(t)                # the other threads are gone with the old image
            self.running.discard(t)
        if old is not None and old.pid == tid and not any(s is old for t, s in self.tasks.items() if t != tid):
            old.close()
        self.tgid[tid] = tid
        space = AddressSpace.for_image(tid, tid, self.bp_probes, self._wait_trap, at_exec=True)
        self.tasks[tid] = space
        if tid == self.root and (space is not None or self.syscalls or self.insn_probes):
            self.pinning.pin(tid)            # stops are round trips: keep both on one CPU
        self.exes[tid] = exe_path(tid)
        self._set_stepmode(tid, tid)
        self._fire_life("begin", tid, tid)

    def _trap(self, tid: int) -> None:
        self.running.discard(tid)
        if tid in self.stepmode and self._step_trap(tid):
            return
        space = self.tasks.get(tid)
        if space is None:
            if tid not in self.tasks:
                self.orphans.add(tid)        # a new task's stop before its parent's event
                return
            self._resume(tid, signal.SIGTRAP)
            return
        regs = self.regs
        addr = regs.rip - 1
        if addr in space.bps.saved:
            if addr == space.entry_bp:
                self._at_entry(space, addr, regs, tid)
            elif addr == space.rtld_bp and addr not in space.bps.probes:
                space.arm_libraries(tid)     # a dlopen/dlclose: new modules' probes armed
                regs.rip = addr
                self._continue(space, addr, regs, tid)
            else:
                self._hit(space, addr, regs, tid)
        elif space.ours(addr):               # an int3 removed after this thread hit it
            regs.rip = addr
            self._resume_regs(tid, regs)
        else:
            self._resume(tid, signal.SIGTRAP)   # the program's own SIGTRAP

    def _at_entry(self, space: AddressSpace, addr: int, regs: Any, tid: int) -> None:
        """The program's entry point: its libraries are mapped now; arm their probes."""
        space.arm_libraries(tid)
        if addr in space.bps.probes:         # a probe of its own there: a normal hit
            self._hit(space, addr, regs, tid)
            return
        space.bps.remove(addr)
        regs.rip = addr
        self._resume_regs(tid, regs)

    def _hit(self, space: AddressSpace, addr: int, regs: Any, tid: int) -> None:
        self.hits += 1
        regs.rip = addr
        returned = space.take_return(addr, tid, regs.rsp) if addr in space.pending else ()
        entries, rets = space.split.get(addr, ((), ()))
        ctx = self.ctx
        saved = (ctx.pid, ctx.tid, ctx.regs, ctx.memory, ctx.user_mode, ctx.is_return)
        ctx.pid = space.pid
        ctx.tid = tid
        ctx.regs = regs
        ctx.memory = space.mem
        ctx.user_mode = True
        try:
            if rets:
                ctx.is_return = False
                module = space.bps.module[addr]
                ctx.extra["module"] = module
                space.push_return(tid, regs.rsp, rets, module, [self._save_entry(p, ctx) for p in rets])
            for probes, module, values in returned:   # returns first: they happened before this instruction
                ctx.is_return = True
                ctx.extra["module"] = module
                for p, value in zip(probes, values):
                    ctx.extra["entry_values"] = value
                    self.fire(p)
                ctx.extra.pop("entry_values", None)
            if entries:
                ctx.is_return = False
                ctx.extra["module"] = space.bps.module[addr]   # for usymname/probefunc (fn_uregs.py)
                for p in entries:
                    self.fire(p)
        finally:
            ctx.pid, ctx.tid, ctx.regs, ctx.memory, ctx.user_mode, ctx.is_return = saved
            ctx.extra.pop("module", None)
        if self.session.exit_requested:
            hitwait.setregs(tid, regs)        # stopped at the probe address; stop() detaches
            return
        self._continue(space, addr, regs, tid)

    def _save_entry(self, probe: Any, ctx: Any) -> Any:
        """A .return probe's `entry_saver(ctx)` (its @entry values), run at the entry hit."""
        saver = getattr(probe, "entry_saver", None)
        if saver is None:
            return None
        from ..runtime.errors import StapRuntimeError
        try:
            return saver(ctx)
        except StapRuntimeError as e:      # reported now; the return handler then sees None
            self.session.report_error(e)
            return None

    def _continue(self, space: AddressSpace, addr: int, regs: Any, tid: int) -> None:
        """Past the displaced instruction with one resume (or the single-step fallback)."""
        p = space.plans.get(addr)
        kind = p.kind if p is not None else "step"
        if kind == "slot":
            regs.rip = space.slots[addr]
        elif kind == "jump":
            regs.rip = p.target               # type: ignore[union-attr]
        elif kind == "call":
            assert p is not None
            target = call_target(p, regs, space.mem.read)
            if target is None:
                kind = "step"
            else:
                sp = (regs.rsp - 8) & 0xFFFFFFFFFFFFFFFF
                try:
                    space.mem.write(sp, (addr + p.length).to_bytes(8, "little"))
                    regs.rsp = sp
                    regs.rip = target
                except OSError:
                    kind = "step"
        if kind == "step":
            hitwait.setregs(tid, regs)
            self._step_over(space, addr, tid)
            return
        sig = 0
        if tid in self.deferred:
            sig = self.deferred[tid].pop(0)
            if not self.deferred[tid]:
                del self.deferred[tid]
        self._resume_regs(tid, regs, sig)

    def _step_over(self, space: AddressSpace, addr: int, tid: int) -> None:
        """Execute the displaced instruction in place: lift the int3, single-step, re-arm.
        (Another thread passing the address meanwhile is not seen: the fallback's limit.)"""
        if addr not in space.bps.saved:      # a return site whose int3 just went: nothing to step over
            self._resume(tid)
            return
        space.bps.lift(addr)
        pending = 0
        sc.singlestep(tid)
        while True:
            try:
                _, st = os.waitpid(tid, sc.WALL)
            except ChildProcessError:
                return
            if os.WIFEXITED(st) or os.WIFSIGNALED(st):
                self._exited(tid, st)
                return
            sig = os.WSTOPSIG(st)
            if sig == signal.SIGTRAP and st >> 16 == 0:
                break
            if st >> 16 == 0:
                pending = sig                # a signal arrived first: deliver it after the step
            sc.singlestep(tid)
        space.bps.rearm(addr)
        self._resume(tid, pending)

    # --- the end -----------------------------------------------------------------------
    def _detach(self) -> None:
        """Stop every thread, undo a pending trap of ours, take every int3 out, detach."""
        for tid in list(self.running):
            try:
                sc.interrupt(tid)
            except sc.PtraceError:
                self.tasks.pop(tid, None)
                self.running.discard(tid)
        waiting = set(self.running) | self.expected
        while waiting:
            try:
                who, st = os.waitpid(-1, sc.WALL)
            except ChildProcessError:
                break
            if os.WIFEXITED(st) or os.WIFSIGNALED(st):
                if who == self.root:
                    child = getattr(self.session, "child", None)
                    if child is not None and child.status is None:
                        child.status = st
                self.tasks.pop(who, None)
                waiting.discard(who)
                continue
            waiting.discard(who)
            self.running.discard(who)
            sig, event = os.WSTOPSIG(st), st >> 16
            if event in NEW_TASK_EVENTS:     # a task born during the detach: detach it too
                try:
                    new = sc.geteventmsg(who)
                    space = self.tasks.get(who)
                    child = space if event != sc.PTRACE_EVENT_FORK or space is None else \
                        space.fork_copy(new, who, self._wait_trap)
                    self.tasks[new] = child
                    waiting.add(new)
                except sc.PtraceError:
                    pass
            elif who not in self.tasks:
                self.tasks[who] = None
            elif event == 0 and sig == signal.SIGTRAP:
                space = self.tasks.get(who)
                regs = hitwait.getregs(who, self.regs)
                if space is not None and space.ours(regs.rip - 1):   # undo the int3's step
                    regs.rip -= 1
                    hitwait.setregs(who, regs)
                else:
                    self.deferred.setdefault(who, []).append(sig)
            elif event == 0:
                self.deferred.setdefault(who, []).append(sig)   # a signal on its way: let it through
        for space in {id(s): s for s in self.tasks.values() if s is not None}.values():
            try:
                space.remove_all()
            except OSError:
                pass
        self.pinning.release()               # the target's own CPU mask back
        for tid in list(self.tasks):
            sig = self.deferred.get(tid, [0])[0]
            try:
                sc.detach(tid, sig)
            except sc.PtraceError:
                pass
        self.running.clear()
