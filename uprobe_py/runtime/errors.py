"""Run-time error types raised by handlers and built-ins.

`StapRuntimeError(msg)` is what stap reports as `ERROR: msg near ... at FILE:LINE:COL`;
the session adds the location of the statement that was running. `try/catch` in a
script catches it, with `msg` as the caught string.
"""
from __future__ import annotations


class StapRuntimeError(Exception):
    def __init__(self, msg: str, location: object | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.location = location  # filled by the generated code's error map


class ExitRequested(Exception):
    """Raised by abort(): stop at once, skipping the rest of the handler (end probes still run? no: abort skips them)."""
