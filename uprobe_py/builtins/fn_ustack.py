"""User-space symbols, modules, registers and backtraces of the traced thread.

Input: the per-hit `Context` (ctx.regs, ctx.memory, ctx.pid, ctx.pp); the process's
module map and symbol tables (runtime/process_maps.py, read once per process image);
the CFI unwinder (elf/unwind.py). Output: stap's strings and printed lines, in the
formats of SystemTap 4.8's runtime (sym.c `_stp_snprint_addr`, stack.c), with stap's
`%p` being `%#x`:

- print_ubacktrace:       " 0xADDR : SYM+0xOFF/0xSIZE [/full/path]\\n" per frame
- print_ubacktrace_brief: "SYM+0xOFF\\n"
- sprint_ubacktrace:      "SYM+0xOFF [basename]\\n" (MAXSTRINGLEN-1 bytes at most)
- ubacktrace:             "0xADDR " per frame (hex only, each followed by a space)
- usymdata:               "SYM+0xOFF/0xSIZE [/full/path]"
- print_usyms/print_ustack and sprint_usyms/sprint_ustack: " 0xADDR : usymdata\\n"

uprobe-py behaves as stap run with `--ldd`: every module mapped in the process (the
binary, ld.so, libc, ...) has its symbols and CFI, read from the files themselves.
A frame's pc is looked up in the module containing it; sizes are the distance to the
next symbol (stap's heuristic). Frames: the probe's pc, then one per CFI step, at most
MAXBACKTRACE (-D, 20) in all; the unwind stops where stap's does (no CFI, no module,
undefined return address). In a `.return` probe print_ubacktrace starts with stap's
"Returning from: " (the function's entry) and "Returning to  : " lines.
With no traced thread (begin, end, timer probes) the backtrace functions print stap's
`<no user backtrace at PP>` (hex forms: an empty line).

A backtrace is computed only when a handler asks for one, at most once per hit.
"""
from __future__ import annotations

import os
from typing import Any, Optional

from uprobe_py.builtins.fn_control import ScriptError
from uprobe_py.builtins.fn_umem import MASK, TapsetError, read_user
from uprobe_py.builtins.registry import LONG, STRING, VOID, builtin
from uprobe_py.runtime import process_maps as pm
from uprobe_py.runtime.context import Context

G_CTX = "Context Functions"
G_SYM = "User Context Symbols"
G_BT = "User Context Unwind"

# flags (stap's _STP_SYM_* combinations this module prints)
FULL, BRIEF, SIMPLE, NONE, DATA, SYMBOL = "full", "brief", "simple", "none", "data", "symbol"


def fmt_addr(ctx: Context, addr: int, kind: str) -> str:
    """One address as stap's _stp_snprint_addr formats it."""
    addr &= MASK
    hx = "0x%x" % addr
    if kind == NONE:
        return hx + " "
    name, off, size, mod = pm.lookup(ctx, addr)
    path = mod.path if mod is not None else None
    if kind == SYMBOL:
        return name if name else hx
    if kind == BRIEF:
        return "%s+%#x\n" % (name, off) if name else hx + "\n"
    if kind == SIMPLE:
        if path is not None:
            base = os.path.basename(path)
            if name:
                return "%s+%#x [%s]\n" % (name, off, base)
            return "%s [%s+%#x]\n" % (hx, base, off)
        return hx + "\n"
    if kind == DATA:
        if name and path is not None:
            return "%s+%#x/%#x [%s]" % (name, off, size, path)
        if path is not None:
            return "%s [%s+%#x/%#x]" % (hx, path, off, size)
        return hx
    # FULL
    if name and path is not None:
        return " %s : %s+%#x/%#x [%s]\n" % (hx, name, off, size, path)
    if path is not None:
        return " %s [%s+%#x/%#x]\n" % (hx, path, off, size)
    return " %s\n" % hx


# --- the unwind --------------------------------------------------------------------------

def _maxbacktrace(ctx: Context) -> int:
    opts = getattr(ctx.session, "opts", None)
    try:
        return opts._define_int("MAXBACKTRACE", 20) if opts is not None else 20
    except Exception:
        return 20


_last: dict[str, Any] = {"key": None, "pcs": None}


def frames(ctx: Context, override: Optional[dict[int, int]] = None) -> Optional[list[int]]:
    """The pcs of the traced thread's stack, innermost first; None with no user registers."""
    regs = ctx.regs
    if regs is None or not ctx.user_mode:
        return None
    from uprobe_py.elf import unwind
    try:
        key: Any = (ctx.pid, ctx.tid, bytes(regs), id(ctx.memory)) if override is None else None
    except TypeError:
        key = None
    if key is not None and _last["key"] == key:
        return _last["pcs"]
    r = unwind.regs_of(regs)
    if override:
        r.update(override)
    maps = pm.maps_of(ctx)
    limit = _maxbacktrace(ctx)
    pcs = [r[unwind.RIP]]

    def read(addr: int, n: int) -> bytes:
        return read_user(ctx, addr, n)

    call_frame = 0
    while len(pcs) < limit and maps is not None:
        nxt = unwind.step(r, read, maps, call_frame)
        if nxt is None or nxt[unwind.RIP] >= 1 << 63:
            break
        pcs.append(nxt[unwind.RIP])
        r = nxt
        call_frame = 1
    if key is not None:
        _last["key"], _last["pcs"] = key, pcs
    return pcs


def _return_from(ctx: Context) -> Optional[int]:
    """A .return probe's function entry (stap prints it as "Returning from")."""
    if not ctx.is_return:
        return None
    mod = ctx.extra.get("module")
    for p in getattr(ctx.session, "probes", ()) or ():
        if getattr(p, "index", None) == ctx.probe_index:
            addr = p.spec.params.get("addr")
            if addr is not None and mod is not None:
                return addr + mod[1]
    return None


def stack_text(ctx: Context, kind: str, override: Optional[dict[int, int]] = None) -> str:
    pcs = frames(ctx, override)
    if pcs is None:
        return "<no user backtrace at %s>\n" % ctx.pp if kind != NONE else "\n"
    out = []
    if kind == FULL and override is None:
        entry = _return_from(ctx)
        if entry is not None:
            out.append("Returning from: " + fmt_addr(ctx, entry, FULL) + "Returning to  : ")
    out += [fmt_addr(ctx, pc, kind) for pc in pcs]
    return "".join(out)


def _sprint(ctx: Context, kind: str) -> str:
    return stack_text(ctx, kind)[:ctx.session.maxstringlen - 1]


@builtin("print_ubacktrace", VOID, (), needs_ctx=True, group=G_BT)
def print_ubacktrace(ctx: Context) -> None:
    ctx.session.write(stack_text(ctx, FULL))


@builtin("print_ubacktrace", VOID, (LONG, LONG, LONG), needs_ctx=True, group=G_BT)
def print_ubacktrace_at(ctx: Context, pc: int, sp: int, fp: int) -> None:
    ctx.session.write(stack_text(ctx, FULL, {16: pc & MASK, 7: sp & MASK, 6: fp & MASK}))


@builtin("print_ubacktrace_brief", VOID, (), needs_ctx=True, group=G_BT)
def print_ubacktrace_brief(ctx: Context) -> None:
    ctx.session.write(stack_text(ctx, BRIEF))


@builtin("sprint_ubacktrace", STRING, (), needs_ctx=True, group=G_BT)
def sprint_ubacktrace(ctx: Context) -> str:
    return _sprint(ctx, SIMPLE)


@builtin("ubacktrace", STRING, (), needs_ctx=True, group=G_BT)
def ubacktrace(ctx: Context) -> str:
    return _sprint(ctx, NONE)


@builtin("ustack", LONG, (LONG,), needs_ctx=True, group=G_SYM)
def ustack(ctx: Context, n: int) -> int:
    pcs = frames(ctx) or []
    if 0 <= n < len(pcs):
        v = pcs[n]
        return v - (1 << 64) if v >> 63 else v
    raise ScriptError("reached end of stack before unwinding to level %d" % n)


@builtin("ucallers", STRING, (LONG,), needs_ctx=True, group=G_SYM)
def ucallers(ctx: Context, n: int) -> str:
    maxlen = ctx.session.maxstringlen
    out = ""
    total = 0
    i = 0
    while i <= n or n == -1:
        piece = " " if i > 0 else ""
        try:
            piece += "0x%x" % (ustack(ctx, i) & MASK)
        except ScriptError:
            if n == -1:
                break
            raise ScriptError("reached end of stack before unwinding to level %d" % n) from None
        total += len(piece)
        if total > maxlen:
            break
        out += piece
        i += 1
    return out


# --- symbols and modules ----------------------------------------------------------------

@builtin("usymdata", STRING, (LONG,), needs_ctx=True, group=G_SYM)
def usymdata(ctx: Context, addr: int) -> str:
    return fmt_addr(ctx, addr, DATA)[:ctx.session.maxstringlen - 1]


def _usyms_lines(ctx: Context, callers: str) -> list[str]:
    from uprobe_py.builtins.fn_string import strtol
    return [" %s : %s\n" % (tok, usymdata(ctx, strtol(tok, 16))) for tok in callers.split(" ") if tok]


@builtin("print_usyms", VOID, (STRING,), needs_ctx=True, group=G_SYM)
def print_usyms(ctx: Context, callers: str) -> None:
    ctx.session.write("".join(_usyms_lines(ctx, callers)))


builtin("print_ustack", VOID, (STRING,), needs_ctx=True, group=G_SYM)(print_usyms)


@builtin("sprint_usyms", STRING, (STRING,), needs_ctx=True, group=G_SYM)
def sprint_usyms(ctx: Context, callers: str) -> str:
    out = ""
    total = 0
    for line in _usyms_lines(ctx, callers):
        total += len(line)
        if total > ctx.session.maxstringlen:
            break
        out += line
    return out


builtin("sprint_ustack", STRING, (STRING,), needs_ctx=True, group=G_SYM)(sprint_usyms)


def _module_of(ctx: Context, addr: int) -> Optional[pm.Module]:
    maps = pm.maps_of(ctx)
    return maps.module(addr) if maps is not None else None


@builtin("umodname", STRING, (LONG,), needs_ctx=True, group=G_SYM)
def umodname(ctx: Context, addr: int) -> str:
    m = _module_of(ctx, addr)
    if m is None:
        raise TapsetError("module cannot be found", "umodname", 1)
    return m.path[:ctx.session.maxstringlen - 1]


@builtin("umodaddr", LONG, (LONG,), needs_ctx=True, group=G_SYM)
def umodaddr(ctx: Context, addr: int) -> int:
    m = _module_of(ctx, addr)
    if m is None:
        raise TapsetError("umodaddr 0x%x unknown\n " % (addr & MASK), "umodaddr", 1)
    v = ((addr & MASK) - m.start) & MASK
    return v - (1 << 64) if v >> 63 else v


@builtin("umodbuildid", STRING, (LONG,), needs_ctx=True, group=G_SYM)
def umodbuildid(ctx: Context, addr: int) -> str:
    m = _module_of(ctx, addr)
    if m is None or m.image is None:
        raise TapsetError("umodbuildid 0x%x unknown\n " % (addr & MASK), "umodbuildid", 1)
    return m.image.build_id or ""


@builtin("probemod", STRING, (), needs_ctx=True, group=G_CTX)
def probemod(ctx: Context) -> str:
    # context-symbols.stp: a module("...") probe point names its kernel module; any
    # other probe (process probes included: they run in user mode) has none.
    p = ctx.pp
    i = p.find('module("')
    if i >= 0:
        j = i + 8
        k = p.find('"', j)
        return p[j:k if k >= 0 else len(p)][:ctx.session.maxstringlen - 1]
    raise TapsetError("Cannot determine kernel module name", "probemod", 0)


# --- registers ---------------------------------------------------------------------------

@builtin("print_regs", VOID, (), needs_ctx=True, group=G_CTX)
def print_regs(ctx: Context) -> None:
    """x86_64 _stp_print_regs over the user registers. The lines stap fills from the CPU
    in kernel mode (segment selectors of the kernel, MSRs, control registers) show what
    user space has: fs/gs bases and selectors from the register set, kernel CS 0x10,
    control registers 0."""
    r = ctx.regs
    if r is None or not ctx.user_mode:
        return
    g = lambda name: getattr(r, name, 0) & MASK  # noqa: E731
    ctx.session.write(
        "RIP: %016x\nRSP: %016x  EFLAGS: %08x\n" % (g("rip"), g("rsp"), g("eflags"))
        + "RAX: %016x RBX: %016x RCX: %016x\n" % (g("rax"), g("rbx"), g("rcx"))
        + "RDX: %016x RSI: %016x RDI: %016x\n" % (g("rdx"), g("rsi"), g("rdi"))
        + "RBP: %016x R08: %016x R09: %016x\n" % (g("rbp"), g("r8"), g("r9"))
        + "R10: %016x R11: %016x R12: %016x\n" % (g("r10"), g("r11"), g("r12"))
        + "R13: %016x R14: %016x R15: %016x\n" % (g("r13"), g("r14"), g("r15"))
        + "FS:  %016x(%04x) GS:%016x(%04x) knlGS:%016x\n"
        % (g("fs_base"), g("fs") & 0xFFFF, 0, g("gs") & 0xFFFF, g("gs_base"))
        + "CS:  %04x DS: %04x ES: %04x CR0: %016x\n" % (0x10, g("ds") & 0xFFFF, g("es") & 0xFFFF, 0)
        + "CR2: %016x CR3: %016x CR4: %016x\n" % (0, 0, 0))
