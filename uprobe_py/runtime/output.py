"""Script output: a buffer flushed to stdout (or `-o FILE`) byte-exactly.

Handlers append text (latin-1 `str`, one char per byte); the session flushes
after each batch of events and at exit, so output is never lost on exit, error
or signal, and the target's own output interleaves sensibly with ours.
"""
from __future__ import annotations

import os
import sys


class Output:
    def __init__(self, path: str | None = None) -> None:
        self.buf: list[str] = []
        self.write = self.buf.append          # what generated code calls
        if path is None:
            # fd 1 even if Python has no sys.stdout (started with stdout closed): writes then fail
            # with EBADF and are dropped, as stap's would be
            self.fd = sys.stdout.fileno() if sys.stdout is not None else 1
            self.own = False
        else:
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            self.own = True

    def flush(self) -> None:
        if not self.buf:
            return
        data = "".join(self.buf).encode("latin-1", "replace")
        self.buf.clear()
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except InterruptedError:
                continue
            except (BrokenPipeError, OSError):
                return
            view = view[n:]

    def close(self) -> None:
        self.flush()
        if self.own:
            os.close(self.fd)


def stderr_write(text: str) -> None:
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
        os.write(sys.stderr.fileno() if sys.stderr is not None else 2, text.encode("latin-1", "replace"))
    except (OSError, ValueError):
        pass
