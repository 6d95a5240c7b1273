"""SDT markers (`<sys/sdt.h>`, `DTRACE_PROBEn` / `STAP_PROBEn`) read from a binary's ELF notes.

Each marker is one note of section `.note.stapsdt`, owner "stapsdt", type 3, whose
descriptor is three target-sized words, the marker's pc, the link-time address of
`.stapsdt.base` and its semaphore's address (0: none), then three NUL-terminated strings:
provider, name and the argument specs (space separated). When the binary was moved after
linking (prelink), the pc and semaphore move by the difference between the real
`.stapsdt.base` address and the one recorded in the note.

An argument spec is `[-]SIZE@OPERAND` in the assembler's AT&T syntax: `-4@%edi` (register,
signed 4 bytes), `8@-24(%rbp)` (memory, displacement(base,index,scale)), `-4@$5`
(immediate), `8@counter+8(%rip)` (RIP-relative: the symbol's address plus the offset).
`compile_arg` turns one into `f(ctx) -> int` over ctx.regs / ctx.memory once, at start-up.

pyelftools' `iter_notes` splits the notes (it names type 3 NT_GNU_BUILD_ID, so the owner
is what is checked); the descriptor is decoded here.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

NT_STAPSDT = 3
M64 = (1 << 64) - 1


class ArgSpecError(Exception):
    pass


@dataclass
class ArgSpec:
    text: str
    size: int                          # bytes (1, 2, 4, 8)
    signed: bool
    kind: str                          # "reg" | "mem" | "imm"
    reg: str = ""                      # kind "reg": the register as written (edi, r8d, al, ...)
    imm: int = 0
    disp: int = 0                      # kind "mem": disp + base + index * scale (+ symbol's address)
    base: str = ""
    index: str = ""
    scale: int = 1
    symbol: str = ""


@dataclass
class Marker:
    provider: str
    name: str
    pc: int                            # ELF vaddr of the marker's nop (prelink-adjusted)
    semaphore: int                     # ELF vaddr of its 16-bit semaphore, 0 if none
    args_text: str
    args: list[ArgSpec] = field(default_factory=list)


# --- registers ------------------------------------------------------------------------
# name as written -> (user_regs_struct field, bit shift, width in bytes)
REGS: dict[str, tuple[str, int, int]] = {}
for _full, _e, _w, _b in (("rax", "eax", "ax", "al"), ("rbx", "ebx", "bx", "bl"), ("rcx", "ecx", "cx", "cl"),
                          ("rdx", "edx", "dx", "dl"), ("rsi", "esi", "si", "sil"), ("rdi", "edi", "di", "dil"),
                          ("rbp", "ebp", "bp", "bpl"), ("rsp", "esp", "sp", "spl")):
    REGS.update({_full: (_full, 0, 8), _e: (_full, 0, 4), _w: (_full, 0, 2), _b: (_full, 0, 1)})
for _h, _full in (("ah", "rax"), ("bh", "rbx"), ("ch", "rcx"), ("dh", "rdx")):
    REGS[_h] = (_full, 8, 1)
for _i in range(8, 16):
    _r = f"r{_i}"
    REGS.update({_r: (_r, 0, 8), _r + "d": (_r, 0, 4), _r + "w": (_r, 0, 2), _r + "b": (_r, 0, 1),
                 _r + "l": (_r, 0, 1)})
REGS["rip"] = ("rip", 0, 8)
REGS["eip"] = ("rip", 0, 4)

_MEM = re.compile(r"^(?P<disp>[^(]*)\((?P<base>%\w+)?(?:,(?P<index>%\w+)(?:,(?P<scale>\d+))?)?\)$")
_NUM = re.compile(r"^[-+]?(0x[0-9a-fA-F]+|\d+)$")


def _num(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:                  # "010": the assembler's octal
        return int(text, 8)


def _reg(text: str, whole: str) -> str:
    name = text[1:] if text.startswith("%") else text
    if name not in REGS:
        raise ArgSpecError(f"unknown register '{text}' in sdt argument '{whole}'")
    return name


def parse_arg(text: str) -> ArgSpec:
    """One argument spec (`-4@%edi`, `8@-24(%rbp)`, `-4@$5`, `8@sym+8(%rip)`, `4@8(%rax,%rdx,4)`)."""
    size, signed, op = 8, False, text
    m = re.match(r"^(-?)(\d+)@(.*)$", text)
    if m:
        signed, size, op = m.group(1) == "-", int(m.group(2)), m.group(3)
    if size not in (1, 2, 4, 8):
        raise ArgSpecError(f"unsupported size {size} in sdt argument '{text}'")
    if op.startswith("%"):
        return ArgSpec(text, size, signed, "reg", reg=_reg(op, text))
    if op.startswith("$"):
        v = op[1:]
        if not _NUM.match(v):
            raise ArgSpecError(f"unsupported immediate in sdt argument '{text}'")
        return ArgSpec(text, size, signed, "imm", imm=_num(v))
    mm = _MEM.match(op)
    if not mm:
        if _NUM.match(op):                      # a bare number: an absolute address
            return ArgSpec(text, size, signed, "mem", disp=_num(op))
        raise ArgSpecError(f"unsupported operand in sdt argument '{text}'")
    disp_text = mm.group("disp").strip()
    spec = ArgSpec(text, size, signed, "mem")
    if mm.group("base"):
        spec.base = _reg(mm.group("base"), text)
    if mm.group("index"):
        spec.index = _reg(mm.group("index"), text)
        spec.scale = int(mm.group("scale") or 1)
    if disp_text:
        if _NUM.match(disp_text):
            spec.disp = _num(disp_text)
        else:
            sm = re.match(r"^([A-Za-z_.$][\w.$@]*)\s*(?:([-+])\s*(0x[0-9a-fA-F]+|\d+))?$", disp_text)
            if not sm:
                raise ArgSpecError(f"unsupported displacement in sdt argument '{text}'")
            spec.symbol = sm.group(1)
            if sm.group(2):
                spec.disp = _num(sm.group(3)) * (-1 if sm.group(2) == "-" else 1)
    return spec


def parse_args(text: str) -> list[ArgSpec]:
    return [parse_arg(a) for a in text.split()]


# --- notes ------------------------------------------------------------------------------
def read_markers(elf: Any) -> list[Marker]:
    """The markers of an ELFFile, in note order."""
    sec = elf.get_section_by_name(".note.stapsdt")
    if sec is None:
        return []
    base_sec = elf.get_section_by_name(".stapsdt.base")
    word = 8 if elf.elfclass == 64 else 4
    fmt = ("<" if elf.little_endian else ">") + ("QQQ" if word == 8 else "III")
    out = []
    for note in sec.iter_notes():
        if note["n_name"] != "stapsdt" or note["n_type"] not in (NT_STAPSDT, "NT_GNU_BUILD_ID"):
            continue
        desc = note["n_desc"]
        if isinstance(desc, str):
            desc = desc.encode("latin-1")
        if len(desc) < 3 * word:
            continue
        pc, base, sem = struct.unpack_from(fmt, desc, 0)
        strings = desc[3 * word:].split(b"\0")
        if len(strings) < 3:
            continue
        provider, name, args = (s.decode("utf-8", "replace") for s in strings[:3])
        if base_sec is not None and base:
            delta = base_sec["sh_addr"] - base
            pc += delta
            if sem:
                sem += delta
        try:
            parsed = parse_args(args)
        except ArgSpecError:
            parsed = []
        out.append(Marker(provider, name, pc & M64, sem & M64, args, parsed))
    return out


# --- run time -----------------------------------------------------------------------------
def _bias(c: Any) -> int:
    m = c.extra.get("module")
    return m[1] if m else 0


def compile_arg(spec: ArgSpec, symbol_addr: Callable[[str], Optional[int]]) -> Callable[[Any], int]:
    """`f(ctx) -> int`: the argument's value, sized and sign-extended as its spec says (a
    memory operand that cannot be read gives 0, as stap's user_intN do)."""
    size, signed = spec.size, spec.signed
    mask = (1 << (8 * size)) - 1
    sign = 1 << (8 * size - 1)

    def fix(v: int) -> int:
        v &= mask
        if (signed or size == 8) and v & sign:          # a script's long is signed 64-bit
            v -= 1 << (8 * size)
        return v

    if spec.kind == "imm":
        val = fix(spec.imm)
        return lambda c: val
    if spec.kind == "reg":
        fld, shift, _w = REGS[spec.reg]
        if shift:
            return lambda c: fix(getattr(c.regs, fld) >> shift)
        return lambda c: fix(getattr(c.regs, fld))
    const = spec.disp
    reloc = False
    if spec.symbol:
        a = symbol_addr(spec.symbol)
        if a is None:
            raise ArgSpecError(f"cannot find symbol '{spec.symbol}' of sdt argument '{spec.text}'")
        const += a
        reloc = True
    base = REGS[spec.base] if spec.base else None
    index = REGS[spec.index] if spec.index else None
    scale = spec.scale
    if base is not None and base[0] == "rip" and spec.symbol:
        base = None                       # sym(%rip): the symbol's own address
    unpack = {1: "b", 2: "h", 4: "i", 8: "q"}[size]
    unpack = "<" + (unpack if signed or size == 8 else unpack.upper())

    def reg(c: Any, r: tuple[str, int, int]) -> int:
        v = getattr(c.regs, r[0]) >> r[1]
        return v & ((1 << (8 * r[2])) - 1)

    def read(c: Any) -> int:
        addr = const + (_bias(c) if reloc else 0)
        if base is not None:
            addr += reg(c, base)
        if index is not None:
            addr += reg(c, index) * scale
        addr &= M64
        try:
            data = c.memory.read(addr, size)
        except (OSError, ValueError, OverflowError):
            return 0
        if len(data) != size:
            return 0
        return struct.unpack(unpack, data)[0]
    return read
