"""The per-hit context a handler and the built-ins read.

One `Context` object is made per session and updated (not reallocated) before each
handler runs. Engines (timers, ptrace, perf, tracefs) fill in what they know; the
built-ins read only attributes, so nothing here is computed unless asked for.
"""
from __future__ import annotations

import os
from typing import Any


class Context:
    __slots__ = ("session", "pp", "probe_index", "pid", "tid", "cpu", "regs",
                 "memory", "is_return", "user_mode", "actions", "nesting", "extra")

    def __init__(self, session: Any) -> None:
        self.session = session       # uprobe_py.runtime.session.Session
        self.pp = ""                 # the probe point as written, stap's pp()
        self.probe_index = 0
        self.pid = os.getpid()       # with no target: the tracer itself, as stap's begin probes see stapio
        self.tid = self.pid
        self.cpu = 0
        self.regs: Any = None        # register snapshot, None when no user registers
        self.memory: Any = None      # object with read(addr, n) -> bytes, or None
        self.is_return = False
        self.user_mode = False
        self.actions = 0             # statements executed in this hit (MAXACTION)
        self.nesting = 0             # function call depth (MAXNESTING)
        self.extra: dict[str, Any] = {}
