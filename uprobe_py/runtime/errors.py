"""Run-time error types raised by handlers and built-ins.

`StapRuntimeError(msg)` is what stap reports as `ERROR: msg near ... at FILE:LINE:COL`;
the session adds the location of the statement that was running. `try/catch` in a
script catches it, with `msg` as the caught string.
"""
from __future__ import annotations


class StapRuntimeError(Exception):
    catchable = True          # try/catch may handle it

    def __init__(self, msg: str, where: int | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.where = where        # index of the script token to blame, if the raiser knows it


class MaxActionExceeded(StapRuntimeError):
    """MAXACTION: stap's catch blocks give up on an exhausted action budget."""
    catchable = False


class ExitRequested(Exception):
    """Raised by abort(): leave the handler at once; the session then stops as after exit()."""
