"""Pass 5: run a loaded program — begin probes, the event loop, end/error probes, exit status.

The session is the single dispatch loop. It runs `begin` probes in sequence
order, starts the engines of the other families (timers now; ptrace, perf and
tracefs later), then sleeps on their file descriptors and deadlines until
`exit()`, a run-time error, Ctrl-C/SIGTERM, `-T`, or the end of the `-c`
command. Then it runs `end` probes (or `error` probes after a run-time error),
prints the globals the script wrote but never read, as stap does, and flushes.

Run-time errors are reported in stap's shape, `ERROR: MSG near TOKEN at
FILE:LINE:COL`, the token found from the generated code's line map.
"""
from __future__ import annotations

import os
import gc
import selectors
import signal
import time
from typing import Any, Optional

from ..diagnostics import describe_token
from ..options import Options
from ..probes.registry import find_family
from ..symbols import STAT, STRING, Var
from .context import Context
from .errors import ExitRequested, StapRuntimeError
from .output import Output, stderr_write
from .stats import Stat, count, sort_key
from .target import TargetCommand
from ..symbols import py


class Session:
    def __init__(self, program: Any, probes: list[Any], opts: Options, output: Output) -> None:
        self.program = program
        self.probes = probes
        self.opts = opts
        self.out = output
        self.write = output.write
        self.maxstringlen = opts.maxstringlen
        self.target_pid = opts.target_pid
        self.exit_requested = False
        self.errors = 0
        self.ctx = Context(self)
        self.start_time = time.time()
        self.child: Optional[TargetCommand] = None
        self.engines: list[Any] = []
        self._warned: set[str] = set()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        os.set_blocking(self._wake_r, False)

    # --- the interface built-ins use ---------------------------------------
    poll_deadline: Optional[float] = 0.0     # see loop(): how long an engine's poll may wait

    def request_exit(self) -> None:
        self.exit_requested = True

    def abort(self) -> None:
        """abort(): like exit(), but the caller raises ExitRequested to leave the handler at once."""
        self.exit_requested = True

    def warn(self, msg: str) -> None:
        # stapio prints each distinct warning once (unless -v)
        if msg in self._warned and not self.opts.verbose:
            return
        self._warned.add(msg)
        self.out.flush()
        stderr_write(f"WARNING: {msg}\n")

    # --- firing handlers ------------------------------------------------------
    def fire_event(self, probe: Any) -> None:
        """An engine's probe fired: run it only while the session runs (stap's probe entry
        skips handlers once exit() or an error has set the session stopping)."""
        if not self.exit_requested:
            self.fire(probe)

    def fire(self, probe: Any) -> None:
        """Run one probe's handler with the context set for it."""
        self.fire_in(self.ctx, probe)

    def fire_in(self, c: Context, probe: Any) -> None:
        """The same with an engine's own Context (the ptrace engine keeps one, so a hit only
        sets what changed: the thread and, between processes, the memory)."""
        c.pp = probe.pp
        c.probe_index = probe.index
        c.nesting = 0
        try:
            self.program.handlers[probe.index](c)
        except StapRuntimeError as e:
            self.report_error(e)
        except ExitRequested:
            pass
        except RecursionError:
            self.report_error(StapRuntimeError("MAXNESTING exceeded"))

    def report_error(self, e: StapRuntimeError) -> None:
        tok = self.program.token_of(e) if getattr(e, "has_location", True) else None
        self.out.flush()
        where = f" near {describe_token(tok)}" if tok is not None else ""
        stderr_write(f"ERROR: {e.msg}{where}\n")
        self.errors += 1
        if self.errors > self.opts.maxerrors:
            self.exit_requested = True

    def failed(self) -> bool:
        return self.errors > self.opts.maxerrors

    def run_family(self, family: str) -> None:
        """Run begin, end or error probes in (sequence, script) order, as stap's state machine does.

        begin probes stop once the session is stopping (exit(), an error); end probes stop
        at an error; the display of unread globals is an end probe of sequence 0 that comes
        after the script's own sequence-0 end probes.
        """
        todo: list[tuple[int, float, Any]] = [
            (p.spec.params.get("sequence", 0), p.index, p) for p in self.probes if p.spec.family == family]
        if family == "end":
            todo.append((0, float("inf"), None))
        todo.sort(key=lambda t: (t[0], t[1]))
        for _seq, _idx, p in todo:
            if family == "begin" and self.exit_requested:
                break
            if family == "end" and self.failed():
                break
            if p is None:
                self.display_unread_globals()
            else:
                self.fire(p)
            self.out.flush()

    # --- the event loop -----------------------------------------------------
    def _on_signal(self, signum: int, frame: Any) -> None:
        self.exit_requested = True
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def create_target(self) -> None:
        """-c CMD: its process exists before the begin probes (target() is its pid)."""
        if self.opts.target_cmd:
            # an engine that traces the command (ptrace) set trace_target in make_engine
            self.child = TargetCommand(self.opts.target_cmd, trace=getattr(self, "trace_target", False))
            self.target_pid = self.child.pid

    def make_engines(self) -> None:
        by_family: dict[str, list[Any]] = {}
        for p in self.probes:
            by_family.setdefault(p.spec.family, []).append(p)
        for fam_name, probes in sorted(by_family.items()):
            fam = find_family(fam_name) or find_family(probes[0].point.components[0].name)
            if fam is None:
                continue
            eng = fam.make_engine(self, probes, self.fire_event)
            if eng is not None:
                self.engines.append(eng)

    def loop(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._wake_r, selectors.EVENT_READ)
        child_fd = None
        if self.child is not None:
            child_fd = self.child.pidfd
            sel.register(child_fd, selectors.EVENT_READ)
        for eng in self.engines:
            for fd in eng.filenos():
                sel.register(fd, selectors.EVENT_READ, eng)
        deadline = time.monotonic() + self.opts.timeout if self.opts.timeout else None
        may_block = sum(1 for eng in self.engines if eng.filenos()) <= 1
        now = time.monotonic()
        for eng in self.engines:
            eng.start(now)
        try:
            while not self.exit_requested:
                events = sel.select(self._timeout(time.monotonic(), deadline))
                for key, _ in events:
                    if key.fileobj == self._wake_r:
                        try:
                            os.read(self._wake_r, 4096)
                        except BlockingIOError:
                            pass
                    elif key.fileobj == child_fd and self.child is not None and self.child.reap():
                        self.exit_requested = True
                now = time.monotonic()
                # how long an engine's poll may wait for its own events (the ptrace engine
                # waits in C): until the next deadline, and not at all when others have fds
                if may_block:
                    timeout = self._timeout(now, deadline)
                    self.poll_deadline = None if timeout is None else now + timeout
                else:
                    self.poll_deadline = now
                for eng in self.engines:
                    if self.exit_requested:
                        break
                    eng.poll(now)
                self.out.flush()
                if deadline is not None and time.monotonic() >= deadline:
                    self.exit_requested = True
        finally:
            for eng in self.engines:
                eng.stop()
            sel.close()

    def _timeout(self, now: float, deadline: Optional[float]) -> Optional[float]:
        """Seconds until the engines' next deadline or -T's, None for none."""
        timeout: Optional[float] = None
        for eng in self.engines:
            t = eng.next_timeout(now)
            if t is not None and (timeout is None or t < timeout):
                timeout = t
        if deadline is not None:
            left = max(0.0, deadline - now)
            timeout = left if timeout is None else min(timeout, left)
        return timeout

    def _engine_hook(self, name: str) -> None:
        """Optional Engine hooks (probes/registry.py): `target_created()` right after the -c
        command's process exists (before it runs), `session_over()` on every way out of run()."""
        for eng in self.engines:
            hook = getattr(eng, name, None)
            if hook is not None:
                hook()

    def stop_target(self) -> None:
        if self.child is not None:
            self.child.end()

    def run(self) -> int:
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            self.make_engines()
            self.create_target()
            self._engine_hook("target_created")   # e.g. perf counters opened before the command runs
            self.run_family("begin")
            if not self.exit_requested:
                if self.child is not None:
                    self.child.release()
                # everything built so far (program, tables, DWARF) lives to the end: the
                # collector leaves it alone, and runs rarely (a hit allocates a few tuples)
                gc.freeze()
                gc.set_threshold(20000, 20, 20)
                self.loop()
            if not self.failed():
                self.run_family("end")
            if self.failed():
                self.run_family("error")
            self.stop_target()
        finally:
            self._engine_hook("session_over")     # whatever an engine keeps open past its loop
            self.out.close()
            for s, h in old.items():
                signal.signal(s, h)
        if self.errors:
            stderr_write(f"WARNING: Number of errors: {self.errors}, skipped probes: 0\n"
                         "Pass 5: run failed.  [man error::pass5]\n")
            return 1
        return 0

    # --- stap's display of written-but-unread globals ---------------------------
    def display_unread_globals(self) -> None:
        ns = self.program.namespace
        w = self.write
        for name, v in self.program.globals.items():
            if not v.written or v.read or v.deleted or v.type is None or name.startswith("__"):
                continue
            try:
                self._display(v, ns[f"g_{py(name)}"], w)
            except StapRuntimeError as e:
                self.report_error(e)
        self.out.flush()

    def _display(self, v: Var, value: Any, w: Any) -> None:
        name = v.name
        if not v.arity:
            if v.type == STAT:
                w(_stat_line(name, value))
            elif v.type == STRING:
                w(f'{name}="{value}"\n')
            else:
                w(f"{name}={value}\n")
            return
        pairs = list(value.items())
        if v.type == STAT:
            pairs.sort(key=lambda p: sort_key(p[1], "@count"), reverse=True)
        else:
            pairs.sort(key=lambda p: p[1], reverse=True)
        for key, val in pairs:
            keys = key if isinstance(key, tuple) else (key,)
            ktext = ",".join(f'"{k}"' if t == STRING else str(k) for k, t in zip(keys, v.index_types))
            if v.type == STAT:
                w(_stat_line(f"{name}[{ktext}]", val))
            elif v.type == STRING:
                w(f'{name}[{ktext}]="{val}"\n')
            else:
                w(f"{name}[{ktext}]={val}\n")


def _stat_line(label: str, s: Stat) -> str:
    if s is None or count(s) == 0:
        return f"{label} @count=0x0\n"
    from .stats import avg, max as smax, min as smin, sum as ssum
    return f"{label} @count={count(s)} @min={smin(s)} @max={smax(s)} @sum={ssum(s)} @avg={avg(s)}\n"
