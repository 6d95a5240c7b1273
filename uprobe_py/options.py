"""Every setting of a run, from the command line: one dataclass, no behaviour.

Limits follow SystemTap 4.8's runtime defaults (runtime_defines.h) and may be
overridden with `-D NAME=VALUE` as in stap.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Options:
    script_name: str = ""                  # file name, "<input>" for -e, "-" for stdin
    script_text: Optional[str] = None
    args: list[str] = field(default_factory=list)
    last_pass: int = 5
    verbose: int = 0
    warnings: str = "on"                   # "on", "off" (-w), "error" (-W)
    guru: bool = False
    unoptimized: bool = False              # -u: no elision
    unprivileged: bool = False
    output: Optional[str] = None
    target_cmd: Optional[str] = None
    target_pid: int = 0
    timeout: Optional[float] = None
    include_dirs: list[str] = field(default_factory=list)
    defines: dict[str, str] = field(default_factory=dict)
    set_globals: dict[str, str] = field(default_factory=dict)
    compatible: str = "4.8"
    list_pattern: Optional[str] = None
    list_vars: bool = False
    show_traceback: bool = False

    def _define_int(self, name: str, default: int) -> int:
        v = self.defines.get(name)
        if v is None:
            return default
        return int(v, 0)

    @property
    def maxstringlen(self) -> int:
        return self._define_int("MAXSTRINGLEN", 512)

    @property
    def maxaction(self) -> int:
        return self._define_int("MAXACTION", 1000)

    @property
    def maxaction_interruptible(self) -> int:
        return self._define_int("MAXACTION_INTERRUPTIBLE", self.maxaction * 10)

    @property
    def hist_elision(self) -> Optional[int]:
        return int(self.defines["HIST_ELISION"], 0) if "HIST_ELISION" in self.defines else None

    @property
    def maxmapentries(self) -> int:
        return self._define_int("MAXMAPENTRIES", 2048)

    @property
    def maxerrors(self) -> int:
        return self._define_int("MAXERRORS", 0)

    @property
    def maxnesting(self) -> Optional[int]:
        return int(self.defines["MAXNESTING"], 0) if "MAXNESTING" in self.defines else None
