"""Context built-ins that read the traced thread's registers (ptrace engine, issue 3):
uaddr, register, u_register, usymname, probefunc.

Input: `ctx.regs` (uprobe_py.ptrace.syscalls.UserRegs, None outside a process probe),
`ctx.user_mode`, and `ctx.extra["module"]` = (path, bias) of the probed binary, set
by the engine per hit (bias = run-time address - ELF vaddr). Semantics follow
SystemTap 4.8's `linux/context.stp` (uaddr), `x86_64/registers.stp` (register,
u_register: pt_regs names, 32/16/8-bit names sign-extended or masked) and
`linux/context-symbols.stp` (probefunc = usymname(uaddr()) in user mode).
"""
from __future__ import annotations

from uprobe_py.builtins.fn_control import ScriptError
from uprobe_py.builtins.registry import LONG, STRING, builtin
from uprobe_py.runtime.context import Context

G_CTX = "Context Functions"
G_REGS = "Registers"

_R64 = {"r15": "r15", "r14": "r14", "r13": "r13", "r12": "r12", "rbp": "rbp", "rbx": "rbx",
        "r11": "r11", "r10": "r10", "r9": "r9", "r8": "r8", "rax": "rax", "rcx": "rcx",
        "rdx": "rdx", "rsi": "rsi", "rdi": "rdi", "orig_rax": "orig_rax", "rip": "rip",
        "xcs": "cs", "eflags": "eflags", "rsp": "rsp", "xss": "ss"}
_R32 = {"ebp": "rbp", "ebx": "rbx", "eax": "rax", "ecx": "rcx", "edx": "rdx", "esi": "rsi",
        "edi": "rdi", "orig_eax": "orig_rax", "eip": "rip", "esp": "rsp"}
_R16 = {"bp": "rbp", "bx": "rbx", "ax": "rax", "cx": "rcx", "dx": "rdx", "si": "rsi", "di": "rdi",
        "orig_ax": "orig_rax", "ip": "rip", "cs": "cs", "flags": "eflags", "sp": "rsp", "ss": "ss"}
_R8 = {"al": ("rax", 0), "ah": ("rax", 8), "bl": ("rbx", 0), "bh": ("rbx", 8),
       "cl": ("rcx", 0), "ch": ("rcx", 8), "dl": ("rdx", 0), "dh": ("rdx", 8)}


def _signed(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def _register(ctx: Context, name: str, sign_extend: bool) -> int:
    regs = ctx.regs
    if regs is None:
        raise ScriptError("cannot access CPU registers in this context")
    if name in _R64:
        return _signed(getattr(regs, _R64[name]), 64)
    if name in _R32:
        bits, v = 32, getattr(regs, _R32[name])
    elif name in _R16:
        bits, v = 16, getattr(regs, _R16[name])
    elif name in _R8:
        reg, shift = _R8[name]
        bits, v = 8, getattr(regs, reg) >> shift
    else:
        raise ScriptError("Unknown register: " + name)
    return _signed(v, bits) if sign_extend else v & ((1 << bits) - 1)


@builtin("register", LONG, (STRING,), needs_ctx=True, group=G_REGS)
def register(ctx: Context, name: str) -> int:
    return _register(ctx, name, True)


@builtin("u_register", LONG, (STRING,), needs_ctx=True, group=G_REGS)
def u_register(ctx: Context, name: str) -> int:
    return _register(ctx, name, False)


@builtin("uaddr", LONG, (), needs_ctx=True, group=G_CTX)
def uaddr(ctx: Context) -> int:
    if ctx.user_mode and ctx.regs is not None:
        return _signed(ctx.regs.rip, 64)
    return 0


@builtin("usymname", STRING, (LONG,), needs_ctx=True, group=G_CTX)
def usymname(ctx: Context, addr: int) -> str:
    # any module of the process (binary, libc, ld.so...): runtime/process_maps.py
    from uprobe_py.runtime.process_maps import lookup
    name = lookup(ctx, addr)[0]
    if name is None:
        mod = ctx.extra.get("module")      # no module map (tests without a live process)
        if mod is not None and ctx.regs is None:
            from uprobe_py.probes.process import _module
            got = _module(mod[0])
            sym = got[0].symbol_at((addr & ((1 << 64) - 1)) - mod[1]) if got else None
            if sym is not None:
                return sym.name
        return f"{addr & ((1 << 64) - 1):#x}"
    return name[:ctx.session.maxstringlen - 1]


@builtin("probefunc", STRING, (), needs_ctx=True, group=G_CTX)
def probefunc(ctx: Context) -> str:
    if ctx.user_mode:
        return str(usymname(ctx, uaddr(ctx)))
    return ""          # kernel-side symname(addr()) has no meaning here
