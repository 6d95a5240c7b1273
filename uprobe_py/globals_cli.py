"""`-G NAME=VALUE`: set scalar globals before the begin probes run, as staprun does."""
from __future__ import annotations

from .diagnostics import UsageError
from .options import Options
from .semantic import STRING


def apply_set_globals(program: object, opts: Options) -> None:
    ns = program.namespace  # type: ignore[attr-defined]
    gl = program.globals  # type: ignore[attr-defined]
    for name, value in opts.set_globals.items():
        v = gl.get(name)
        if v is None or v.arity:
            raise UsageError(f"-G: '{name}' is not a scalar global variable of the script")
        if v.type == STRING:
            ns[f"g_{name}"] = value
        else:
            try:
                ns[f"g_{name}"] = int(value, 0)
            except ValueError:
                raise UsageError(f"-G: value '{value}' of '{name}' is not a number") from None
