"""Dwarfless argument and return-value built-ins for process probes (x86_64 user space):
int_arg uint_arg long_arg ulong_arg longlong_arg ulonglong_arg pointer_arg s32_arg u32_arg
s64_arg u64_arg asmlinkage fastcall regparm returnval returnstr.

As stap's registers.stp and errno.stp describe them (`man 3stap function::ulong_arg`):
argument n of the function at its entry is rdi, rsi, rdx, rcx, r8, r9 for n = 1..6, then
the user stack at rsp + 8*(n-6) (past the return address); the 32-bit forms sign-extend
or zero-extend the low half. Errors are stap's: "cannot access function args in this
context" without registers, "cannot access arg(N)" for N < 1; an unreadable stack slot
warns and gives 0. returnval() is rax; returnstr(fmt) formats it as stap does (an errno
value as "-2 (ENOENT)", else decimal / 0x-hex / octal for fmt 1 / 2 / 3).
"""
from __future__ import annotations

from uprobe_py.builtins.fn_control import ScriptError
from uprobe_py.builtins.registry import LONG, STRING, builtin
from uprobe_py.runtime.context import Context

G_ARGS = "Context Functions"
REG_ARGS = ("rdi", "rsi", "rdx", "rcx", "r8", "r9")
M64 = (1 << 64) - 1


def _s64(v: int) -> int:
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def _arg(ctx: Context, n: int, bits: int = 64, signed: bool = True) -> int:
    regs = ctx.regs
    if regs is None:
        raise ScriptError("cannot access function args in this context")
    if n < 1:
        raise ScriptError(f"cannot access arg({n})")
    if n <= len(REG_ARGS):
        val = getattr(regs, REG_ARGS[n - 1])
    else:
        addr = (regs.rsp + 8 * (n - len(REG_ARGS))) & M64
        raw = b""
        try:
            raw = ctx.memory.read(addr, 8) if ctx.memory is not None else b""
        except OSError:
            pass
        if len(raw) != 8:
            ctx.session.warn(f"cannot access arg({n}) at user stack address {addr:#x}")
            return 0
        val = int.from_bytes(raw, "little")
    if bits == 32:
        val &= 0xFFFFFFFF
        return val - (1 << 32) if signed and val >> 31 else val
    return _s64(val)


@builtin("int_arg", LONG, (LONG,), needs_ctx=True, group=G_ARGS)
def int_arg(ctx: Context, n: int) -> int:
    return _arg(ctx, n, 32, True)


@builtin("uint_arg", LONG, (LONG,), needs_ctx=True, group=G_ARGS)
def uint_arg(ctx: Context, n: int) -> int:
    return _arg(ctx, n, 32, False)


@builtin("s32_arg", LONG, (LONG,), needs_ctx=True, group=G_ARGS)
def s32_arg(ctx: Context, n: int) -> int:
    return _arg(ctx, n, 32, True)


@builtin("u32_arg", LONG, (LONG,), needs_ctx=True, group=G_ARGS)
def u32_arg(ctx: Context, n: int) -> int:
    return _arg(ctx, n, 32, False)


def _long(ctx: Context, n: int) -> int:
    return _arg(ctx, n)


for _name in ("long_arg", "ulong_arg", "longlong_arg", "ulonglong_arg", "pointer_arg", "s64_arg", "u64_arg"):
    builtin(_name, LONG, (LONG,), needs_ctx=True, group=G_ARGS)(_long)


@builtin("asmlinkage", LONG, (), group=G_ARGS)
def asmlinkage() -> int:
    return 0            # a no-op on x86_64 (the calling convention is the default one)


@builtin("fastcall", LONG, (), group=G_ARGS)
def fastcall() -> int:
    return 0


@builtin("regparm", LONG, (LONG,), group=G_ARGS)
def regparm(n: int) -> int:
    return 0            # i386 only in stap; x86_64 passes arguments in registers anyway


@builtin("returnval", LONG, (), needs_ctx=True, group=G_ARGS)
def returnval(ctx: Context) -> int:
    if ctx.regs is None:
        raise ScriptError("cannot access return value in this context")
    return _s64(ctx.regs.rax)


@builtin("returnstr", STRING, (LONG,), needs_ctx=True, group="Errno Functions")
def returnstr(ctx: Context, fmt: int) -> str:
    if ctx.regs is None:
        return ""
    from uprobe_py.builtins.fn_conversion import errno_str
    ret = _s64(ctx.regs.rax)
    if -4096 < ret < 0 and errno_str(ret):
        return f"{ret} ({errno_str(ret)})"
    if fmt == 2:
        return f"0x{ret & M64:x}"
    if fmt == 3:
        return f"{ret & M64:#o}".replace("0o", "0")
    return str(ret)
