"""The ptrace engine, v0: entry, statement and `.return` probes of `process(...)` in the `-c` command.

Correctness first; speed is for later. The `-c` child is attached with PTRACE_SEIZE
by the tracer right after the fork, while it still waits on its go-pipe
(runtime/target.py), with PTRACE_O_TRACEEXEC (each execve is a distinct event
stop: the shell's, then the command's) and PTRACE_O_EXITKILL (a tracer that dies
never leaves int3s behind in a running target). SEIZE rather than TRACEME because
it needs nothing in the forked child, reports a refusal (EPERM) in the tracer, tells
group-stops from signal stops (PTRACE_EVENT_STOP, resumed with PTRACE_LISTEN), and
gives PTRACE_INTERRUPT, which stops a running tracee for the detach without
injecting a signal.

When an exec event shows the probed binary (/proc/PID/exe), its load base is read
from /proc/PID/maps and an int3 is written at each probe address through
/proc/PID/mem (breakpoints.py). A hit is a SIGTRAP whose rip-1 is a breakpoint:
rip is set back, the context filled (pid, tid, regs, pp) and every probe at that
address fired in declaration order; then the tracee steps over the displaced
instruction: original byte back, PTRACE_SINGLESTEP, int3 again, PTRACE_CONT.
That single-step is the slow part (a #DB trap is ~28 us on this VM, see
/work/shared/design/ptrace-facts.md); issue 3's fast path (one stop per hit: the
instruction executed out of line in a scratch page, the wait loop in C) replaces it.
`.return` probes (see _push_return): an int3 at the function's entry reads the return
address at [rsp]; an int3 at that return site, matched by thread and stack pointer,
fires the handler. The stack is never rewritten. Limits of that design: a tail call
(jmp) into a probed function drops the caller's pending return (as a longjmp would:
the callee reuses its return slot); and a jump that lands exactly on a return site
with the frame's own stack pointer (gcc -O0 can make setjmp's second return branch
to the instruction after `call f()`) counts as f's return, once.
Other signals go to the tracee unchanged. Wake-ups: SIGCHLD has a handler and the
engine's pipe is the wakeup fd (signal.set_wakeup_fd), which the session's selector
watches; poll() then drains waitpid(WNOHANG | __WALL).

The engine ends with the session: every breakpoint is removed and the tracee
detached, so it runs on unharmed (with -c the session then ends it as target.py
does). The tracee's exit ends the session (end probes run); the exit status is
handed to the TargetCommand so it is reaped once. Single-threaded targets only:
threads, fork and exec following are issue 4; a library's functions are not
probed (only the executable's mappings at exec are looked at).
"""
from __future__ import annotations

import os
import signal
import time
from typing import Any, Callable, Optional

from . import hitwait
from .affinity import Pinning
from . import syscalls as sc
from .breakpoints import Breakpoints, auxv_entry, executable_ranges, exe_path
from .relocate import SLOT_SIZE, Plan, call_target, plan
from .scratch import Scratch, ScratchError

GROUP_STOP_SIGNALS = (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
TRACE_OPTIONS = sc.PTRACE_O_TRACEEXEC | sc.PTRACE_O_EXITKILL


def attach_child(pid: int) -> None:
    """Called by TargetCommand in the tracer right after fork (the child waits on its pipe)."""
    sc.seize(pid, TRACE_OPTIONS)


class PtraceEngine:
    def __init__(self, session: Any, probes: list[Any], fire: Callable[..., None]) -> None:
        self.session = session
        self.probes = sorted(probes, key=lambda p: p.index)
        self.fire = fire
        self.pid = 0
        self.attached = False
        self.running = False          # tracee resumed (not in a ptrace-stop)
        self.mem: Optional[sc.Memory] = None
        self.bps: Optional[Breakpoints] = None
        self.scratch: Optional[Scratch] = None
        self.plans: dict[int, Plan] = {}        # probe address / return site -> how to get past it
        self.slots: dict[int, int] = {}         # address -> its out-of-line slot (plan "slot")
        self.deferred: list[int] = []           # signals that arrived while a scratch page was mapped
        self.regs = hitwait.REGS
        # .return probes: return site -> [(tid, rsp after the return, probes, module, entry values)]
        self.pending: dict[int, list[tuple[int, int, list[Any], Any, list[Any]]]] = {}
        self.split: dict[int, tuple[list[Any], list[Any]]] = {}
        self._xranges: list[tuple[int, int]] = []
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self._old_chld: Any = None
        self._old_wakeup: Optional[int] = -1
        self.hits = 0
        self.entry_bp = 0                       # AT_ENTRY int3 while library probes wait
        self.unmapped: list[Any] = []           # probes whose module was not mapped at exec
        self.pinning = Pinning()

    # --- the Engine protocol ---------------------------------------------------------
    def start(self, now: float) -> None:
        child = getattr(self.session, "child", None)
        if child is None:
            return self._fail("process probes need -c CMD in uprobe-py for now (-x PID and "
                              "system-wide process probes: issue 4)")
        err = getattr(child, "trace_error", None)
        if err is not None or not getattr(child, "traced", False):
            return self._fail(f"cannot trace the -c command: {err or 'not attached'}")
        self.pid = child.pid
        self.attached = True
        self.running = True
        # Between polls (handlers of other engines, the session's select) a stop is announced
        # by SIGCHLD: its handler must be the C-level one that writes the wakeup fd (a Python
        # handler alone can be left pending when SIGCHLD lands between the last bytecode and
        # epoll_wait: a lost wake-up). Inside poll, SIGCHLD is blocked and waited for in C
        # (hitwait.py), so a hit costs no handler at all.
        self._old_chld = signal.signal(signal.SIGCHLD, self._on_sigchld)
        try:
            self._old_wakeup = signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)
        except ValueError:            # not the main thread (embedders): Python handler only
            self._old_wakeup = None
        self._on_sigchld(0, None)     # a stop may have come before the handler existed

    def next_timeout(self, now: float) -> Optional[float]:
        return None

    def filenos(self) -> list[int]:
        return [self._r]

    def poll(self, now: float) -> None:
        """Handle the tracee's stops until none is pending and the session has something
        else to do: its next deadline (`session.poll_deadline`), a signal, or exit."""
        try:
            os.read(self._r, 4096)
        except BlockingIOError:
            pass
        deadline = getattr(self.session, "poll_deadline", 0.0)
        while self.attached and not self.session.exit_requested:
            if deadline is None:
                timeout_ns = -1 if hitwait.NATIVE else 50_000_000
            else:
                timeout_ns = max(0, int((deadline - time.monotonic()) * 1e9))
            kind, st, who = hitwait.wait(self.pid, timeout_ns, self.regs)
            if kind == hitwait.TRAP:
                self.running = False
                self._trap(who)
            elif kind == hitwait.STOP:
                if os.WIFEXITED(st) or os.WIFSIGNALED(st):
                    self._gone(st)
                    return
                self.running = False
                self._handle(st)
            elif kind == hitwait.NOCHILD:
                self._gone(None)
                return
            else:                           # TIMEOUT, INTR: back to the session
                return

    def stop(self) -> None:
        """Session end: breakpoints out, tracee detached (running on), handler restored."""
        try:
            if self.attached:
                self._detach()
        finally:
            self.pinning.release(tracee_alive=False)     # the tracer's own mask (if still set)
            if self._old_chld is not None:
                if self._old_wakeup is not None:
                    signal.set_wakeup_fd(self._old_wakeup)
                signal.signal(signal.SIGCHLD, self._old_chld)
                self._old_chld = None
            if self.mem is not None:
                self.mem.close()
            for fd in (self._r, self._w):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._r = self._w = -1

    # --- events ------------------------------------------------------------------------
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

    def _wait(self, flags: int) -> Optional[int]:
        """One wait status of the tracee, None if none (WNOHANG); exits are handled here."""
        try:
            pid, st = os.waitpid(self.pid, flags | sc.WALL)
        except ChildProcessError:            # reaped elsewhere (the session's pidfd path)
            self._gone(None)
            return None
        if pid == 0:
            return None
        if os.WIFEXITED(st) or os.WIFSIGNALED(st):
            self._gone(st)
            return None
        self.running = False
        return st

    def _wait_trap(self) -> Optional[int]:
        """Wait for the tracee's next SIGTRAP stop (a scratch page's mmap); other signals are
        kept for later delivery. None when it ended."""
        while True:
            st = self._wait(0)
            if st is None:
                return None
            sig, event = os.WSTOPSIG(st), st >> 16
            if sig == signal.SIGTRAP and event == 0:
                return st
            if event == 0:
                self.deferred.append(sig)
            sc.cont(self.pid, 0)

    def _gone(self, status: Optional[int]) -> None:
        """The tracee exited: hand the status to the TargetCommand (reaped once) and end the session."""
        self.attached = False
        self.running = False
        self.pinning.release(tracee_alive=False)
        child = getattr(self.session, "child", None)
        if child is not None and status is not None and child.status is None:
            child.status = status
        self.session.request_exit()

    def _resume(self, sig: int = 0) -> None:
        sc.cont(self.pid, sig)
        self.running = True

    def _handle(self, st: int) -> None:
        """A stop that is not a SIGTRAP signal stop (those go to _trap)."""
        sig = os.WSTOPSIG(st)
        event = st >> 16
        if event == sc.PTRACE_EVENT_EXEC:
            self._on_exec()
            self._resume()
        elif event == sc.PTRACE_EVENT_STOP:
            if sig in GROUP_STOP_SIGNALS:    # group-stop: stay stopped until SIGCONT
                sc.listen(self.pid)
                self.running = True
            else:                            # an interrupt stop nobody waits for
                self._resume()
        else:
            self._resume(sig)

    def _trap(self, tid: int) -> None:
        regs = self.regs
        addr = regs.rip - 1
        if self.bps is not None and addr in self.bps.saved:
            if addr == self.entry_bp:
                self._at_entry(addr, regs, tid)
            else:
                self._hit(addr, regs, tid)
        else:
            self._resume(signal.SIGTRAP)     # the program's own SIGTRAP

    def _on_exec(self) -> None:
        """A new image: breakpoints go into the probed modules it maps. At the exec stop only
        the program and its dynamic linker are mapped; when probes wait for a library, an
        int3 at the program's entry point (AT_ENTRY) arms them once ld.so has mapped the
        libraries the program needs (libraries dlopen()ed later: issue 4)."""
        if self.mem is not None:
            self.mem.close()
        self.mem = None
        self.bps = None
        self.scratch = None
        self.entry_bp = 0
        self.plans.clear()
        self.slots.clear()
        self.pending.clear()
        self._xranges = []
        exe = exe_path(self.pid)
        mine = [p for p in self.probes if p.spec.params.get("process", exe) == exe]
        if not mine:
            return
        mem = sc.Memory(self.pid)
        bps = Breakpoints(mem)
        missing = bps.plan(self.pid, mine)
        entry = auxv_entry(self.pid) if missing else 0
        if not bps.probes and not entry:
            mem.close()
            return
        self.mem, self.bps = mem, bps
        self.scratch = Scratch(self.pid, mem, self._wait_trap)
        self.unmapped = [p for p in mine if p.spec.params["path"] in missing]
        self._arm()
        if entry and bps.add(entry):
            self.entry_bp = entry

    def _arm(self) -> None:
        """int3s in for every planned probe address not yet armed."""
        assert self.bps is not None
        for addr in self.bps.probes:         # decided before any int3 is in the code
            if addr not in self.plans:
                self._prepare(addr)
        self.bps.insert_all()
        if self.bps.probes:
            self.pinning.pin(self.pid)       # hits are round trips: keep both on one CPU
        # per address, decided once: the entry/statement probes and the .return probes
        self.split = {addr: ([p for p in ps if p.spec.params.get("kind") != "return"],
                             [p for p in ps if p.spec.params.get("kind") == "return"])
                      for addr, ps in self.bps.probes.items()}

    def _at_entry(self, addr: int, regs: Any, tid: int) -> None:
        """The program's entry point: its libraries are mapped now; arm their probes."""
        assert self.bps is not None
        self.entry_bp = 0
        self.bps.plan(self.pid, self.unmapped)
        self.unmapped = []
        if addr in self.bps.probes:          # a probe of its own there: a normal hit
            self._arm()
            self._hit(addr, regs, tid)
            return
        self.bps.remove(addr)
        self._arm()
        regs.rip = addr
        hitwait.resume(self.pid, regs, 0)
        self.running = True

    def _prepare(self, addr: int) -> None:
        """How a hit at `addr` gets past the displaced instruction (relocate.py), and its slot."""
        assert self.mem is not None and self.bps is not None and self.scratch is not None
        code = bytearray(self.mem.read(addr, 16))
        for a, orig in self.bps.saved.items():      # our own int3s inside those bytes
            if addr <= a < addr + len(code):
                code[a - addr] = orig[0]
        p = plan(addr, bytes(code))
        if p.kind == "slot":
            try:
                slot = self.scratch.slot(addr, SLOT_SIZE)
                body = p.slot_code(slot) if slot is not None else None
                if body is None:
                    p.kind = "step"
                else:
                    self.mem.write(slot, body)
                    self.slots[addr] = slot
            except (OSError, ScratchError):
                p.kind = "step"
        self.plans[addr] = p

    def _hit(self, addr: int, regs: Any, tid: int) -> None:
        self.hits += 1
        regs.rip = addr
        assert self.bps is not None
        returned = self._take_return(addr, tid, regs.rsp) if addr in self.pending else None
        entries, rets = self.split.get(addr, ((), ()))
        ctx = self.session.ctx
        saved = (ctx.pid, ctx.tid, ctx.regs, ctx.memory, ctx.user_mode, ctx.is_return)
        ctx.pid = self.pid
        ctx.tid = tid
        ctx.regs = regs
        ctx.memory = self.mem
        ctx.user_mode = True
        try:
            if rets:
                ctx.is_return = False
                ctx.extra["module"] = self.bps.module[addr]
                self._push_return(tid, regs.rsp, rets, self.bps.module[addr], ctx)
            if returned is not None:          # the return first: it happened before this instruction
                ctx.is_return = True
                ctx.extra["module"] = returned[1]
                for p, value in zip(returned[0], returned[2]):
                    ctx.extra["entry_values"] = value
                    self.fire(p)
                ctx.extra.pop("entry_values", None)
            if entries:
                ctx.is_return = False
                ctx.extra["module"] = self.bps.module[addr]   # for usymname/probefunc (fn_uregs.py)
                for p in entries:
                    self.fire(p)
        finally:
            ctx.pid, ctx.tid, ctx.regs, ctx.memory, ctx.user_mode, ctx.is_return = saved
            ctx.extra.pop("module", None)
        if self.session.exit_requested:
            hitwait.setregs(self.pid, regs)   # stopped at the probe address; stop() detaches
            return
        self._continue(addr, regs)

    def _continue(self, addr: int, regs: Any) -> None:
        """Past the displaced instruction with one resume (or the single-step fallback)."""
        p = self.plans.get(addr)
        kind = p.kind if p is not None else "step"
        if kind == "slot":
            regs.rip = self.slots[addr]
        elif kind == "jump":
            regs.rip = p.target               # type: ignore[union-attr]
        elif kind == "call":
            assert p is not None and self.mem is not None
            target = call_target(p, regs, self.mem.read)
            if target is None:
                kind = "step"
            else:
                sp = (regs.rsp - 8) & 0xFFFFFFFFFFFFFFFF
                try:
                    self.mem.write(sp, (addr + p.length).to_bytes(8, "little"))
                    regs.rsp = sp
                    regs.rip = target
                except OSError:
                    kind = "step"
        if kind == "step":
            hitwait.setregs(self.pid, regs)
            self._step_over(addr)
            return
        hitwait.resume(self.pid, regs, self.deferred.pop(0) if self.deferred else 0)
        self.running = True

    # --- .return probes --------------------------------------------------------------
    # At the function's entry (its first instruction, where the int3 of a .return probe
    # is: process.py resolves .return to the entry pc) [rsp] holds the return address.
    # No stack rewriting: an int3 goes at that return site, and a pending entry (tid,
    # rsp after the ret = rsp at entry + 8, probes) waits for it. A hit there with that
    # rsp is the return. Frames skipped by longjmp or exceptions are found as the kernel's
    # uretprobes find them (cleanup_return_instances): a pending entry whose frame lies
    # below the stack pointer of a new call or a return of the same thread is dead and
    # dropped, never fired. Recursion: one entry per frame, told apart by rsp; no cap.
    def _push_return(self, tid: int, rsp: int, probes: list[Any], module: Any, ctx: Any) -> None:
        assert self.mem is not None and self.bps is not None
        after = rsp + 8
        self._drop_dead(tid, after)           # frames at or below this call's are gone
        try:
            raw = self.mem.read(rsp, 8)
        except OSError:
            return
        if len(raw) != 8:
            return
        site = int.from_bytes(raw, "little")
        if not self._executable(site):        # an unusual stack: never plant an int3 in data
            return
        try:
            if site not in self.plans:
                self._prepare(site)
            if not self.bps.add(site):
                return
        except OSError:
            return
        # what the probes' @entry expressions need, evaluated now (see semantic/codegen)
        values = [self._save_entry(p, ctx) for p in probes]
        self.pending.setdefault(site, []).append((tid, after, probes, module, values))

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

    def _take_return(self, addr: int, tid: int, rsp: int) -> Optional[tuple[list[Any], Any, list[Any]]]:
        """The probes, module and entry values of the frame returning to `addr` with this rsp,
        if any; that entry and every dead one of the thread (rsp above theirs) are dropped."""
        got = None
        for t, after, probes, module, values in self.pending.get(addr, ()):
            if t == tid and after == rsp:
                got = (probes, module, values)
        self._drop_dead(tid, rsp)
        return got

    def _drop_dead(self, tid: int, rsp: int) -> None:
        """Drop the thread's pending returns whose frames are not above `rsp` (their
        rsp-after-return <= rsp); a return site nobody waits for loses its int3."""
        assert self.bps is not None
        for site in list(self.pending):
            lst = self.pending[site]
            keep = [e for e in lst if e[0] != tid or e[1] > rsp]
            if len(keep) == len(lst):
                continue
            if keep:
                self.pending[site] = keep
            else:
                del self.pending[site]
                if site not in self.bps.probes:
                    try:
                        self.bps.remove(site)
                    except OSError:
                        pass

    def _executable(self, addr: int) -> bool:
        for lo, hi in self._xranges:
            if lo <= addr < hi:
                return True
        self._xranges = executable_ranges(self.pid)      # a new mapping (dlopen): look again
        return any(lo <= addr < hi for lo, hi in self._xranges)

    def _step_over(self, addr: int) -> None:
        """Execute the displaced instruction in place: lift the int3, single-step, re-arm."""
        assert self.bps is not None
        if addr not in self.bps.saved:       # a return site whose int3 just went: nothing to step over
            self._resume()
            return
        self.bps.lift(addr)
        pending = 0
        sc.singlestep(self.pid)
        while True:
            st = self._wait(0)
            if st is None:                   # exited during the step
                return
            sig = os.WSTOPSIG(st)
            if sig == signal.SIGTRAP and st >> 16 == 0:
                break
            if st >> 16 == 0:
                pending = sig                # a signal arrived first: deliver it after the step
            sc.singlestep(self.pid)
        self.bps.rearm(addr)
        self._resume(pending)

    # --- the end -----------------------------------------------------------------------
    def _detach(self) -> None:
        sig = 0
        if self.running:
            try:
                sc.interrupt(self.pid)
            except sc.PtraceError:
                self._gone(None)
                return
            st = self._wait(0)
            if st is None:
                return
            s, event = os.WSTOPSIG(st), st >> 16
            if event == 0 and s == signal.SIGTRAP and self.bps is not None:
                regs = hitwait.getregs(self.pid, self.regs)
                if regs.rip - 1 in self.bps.saved:   # stopped on a breakpoint: undo the int3's step
                    regs.rip -= 1
                    hitwait.setregs(self.pid, regs)
                else:
                    sig = s
            elif event == 0:
                sig = s                      # a signal on its way: let it through
        if self.bps is not None:
            try:
                self.bps.remove_all()
            except OSError:
                pass
        self.pinning.release()               # the target's own CPU mask back
        try:
            sc.detach(self.pid, sig)
        except sc.PtraceError:
            pass
        self.attached = False
        self.running = False
