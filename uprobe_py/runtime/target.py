"""The `-c CMD` target: created before the begin probes, released to exec after them.

As stap does, the command's process exists (so `target()` is its pid inside begin
probes) but does not run the command until the begin probes have run. The child
blocks on a pipe, then execs CMD: directly when it is plain words (as staprun does
with wordexp, so target() is the command's own pid), else through `/bin/sh -c CMD`;
a failed exec exits 127 like a shell.
The session waits for it through a pidfd in its event loop and ends when it exits.
With `trace` (the ptrace engine, uprobe_py/ptrace/engine.py) the tracer attaches to
the child with PTRACE_SEIZE right after the fork, before it can exec (a refusal is
kept in `trace_error` for the engine to report), and the child loads the engine's
seccomp filter for system-call probes (ptrace/syscall_stops.py) just before its exec.
"""
from __future__ import annotations

import os
import signal
import time
from typing import Any, Optional


SHELL_CHARS = set("|&;<>(){}\n$`*?[~#")


def simple_words(command: str) -> list[str]:
    """The command's words when it needs no shell (staprun's wordexp(WRDE_NOCMD) path: the
    command itself is then the target process, not a shell that would fork it); else []."""
    if any(c in SHELL_CHARS for c in command):
        return []
    import shlex
    try:
        return shlex.split(command)
    except ValueError:
        return []


class TargetCommand:
    def __init__(self, command: str, trace: Any = False) -> None:
        self.command = command
        seccomp = getattr(trace, "seccomp", None)     # the ptrace engine's system-call filter
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:                       # the child: wait for the go, then become CMD
            try:
                os.close(w)
                go = os.read(r, 1)
                if go == b"x":
                    if seccomp:
                        from ..ptrace.syscall_stops import install_seccomp
                        install_seccomp(seccomp)
                    words = simple_words(command)
                    if words:              # as staprun: wordexp'd words exec'd directly
                        try:
                            os.execvp(words[0], words)
                        except OSError:
                            pass           # let the shell say why
                    os.execv("/bin/sh", ["sh", "-c", command])
            finally:
                os._exit(127)
        os.close(r)
        self.pid = pid
        self._go = w
        self.status: Optional[int] = None
        self.pidfd = os.pidfd_open(pid)
        self.traced = False
        self.trace_error: Optional[str] = None
        if trace:                          # the ptrace engine's attach (before release/exec)
            from ..ptrace.engine import attach_child
            try:
                attach_child(pid, getattr(trace, "trace_options", None))
                self.traced = True
            except OSError as e:
                self.trace_error = str(e)

    def release(self) -> None:
        """Let the command start (after the begin probes)."""
        if self._go >= 0:
            os.write(self._go, b"x")
            os.close(self._go)
            self._go = -1

    def reap(self) -> bool:
        """True once it has exited (non-blocking)."""
        if self.status is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:      # reaped by the ptrace engine, which keeps its status
                return True
            if pid == 0:
                return False
            self.status = status
        return True

    def end(self) -> None:
        """The session is over: a command never released is dropped, a running one ended."""
        if self._go >= 0:                  # never started: let it exit without running CMD
            os.close(self._go)
            self._go = -1
        if not self.reap():
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 5
            while not self.reap() and time.monotonic() < deadline:
                time.sleep(0.01)
            if not self.reap():
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        os.close(self.pidfd)
