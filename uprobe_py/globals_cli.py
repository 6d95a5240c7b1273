"""`-G NAME=VALUE`: set scalar globals before the begin probes run, as staprun does.

Numbers are read as the runtime's module-parameter setter reads them: an optional
`-`, then C's base-0 digits (`0x` hex, leading `0` octal, else decimal) as far as
they go, wrapping at 64 bits; no digits at all is refused. Strings are cut to
MAXSTRINGLEN-1 bytes.
"""
from __future__ import annotations

import re

from .diagnostics import UsageError
from .options import Options
from .runtime.values import wrap
from .symbols import STRING
from .symbols import py


def parse_long(text: str) -> int | None:
    neg = text.startswith("-")
    body = text[1:] if neg else text
    m = re.match(r"0[xX]([0-9a-fA-F]+)|0([0-7]*)|([1-9][0-9]*)", body)
    if m is None:
        return None
    if m.group(1) is not None:
        v = int(m.group(1), 16)
    elif m.group(2) is not None:
        v = int(m.group(2) or "0", 8)
    else:
        v = int(m.group(3), 10)
    return wrap(-v if neg else v)


def apply_set_globals(program: object, opts: Options) -> None:
    ns = program.namespace  # type: ignore[attr-defined]
    gl = program.globals  # type: ignore[attr-defined]
    for name, value in opts.set_globals.items():
        v = gl.get(name)
        if v is None or v.arity:
            raise UsageError(f"-G: '{name}' is not a scalar global variable of the script")
        if v.type == STRING:
            ns[f"g_{py(name)}"] = value[: opts.maxstringlen - 1]
        else:
            n = parse_long(value)
            if n is None:
                raise UsageError(f"-G: invalid value '{value}' for '{name}': not a number")
            ns[f"g_{py(name)}"] = n
