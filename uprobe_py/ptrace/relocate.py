"""The instruction an int3 displaces, and how a hit gets past it without a single-step.

A breakpoint replaces the first byte of an instruction. After the handler runs, the
tracee must execute that instruction and carry on. Single-stepping it in place costs a
second stop (a #DB trap: ~28 us on this VM, against ~4 us for a whole one-stop hit), so
each probe address gets a plan, decided once from the instruction's bytes (decoded
with capstone):

  - "slot": the instruction is copied into a slot of the scratch area mapped into the
    tracee (scratch.py), its RIP-relative displacement rewritten for the slot's address,
    followed by an absolute `jmp` back to the next original instruction. The tracer sets
    rip to the slot and continues: one stop. Conditional jumps become `jcc` over two
    absolute jumps (not taken / taken).
  - "jump": a relative `jmp`: rip is set to its target (no slot needed).
  - "call": any `call` is emulated, because a copied call would push the slot's address:
    the return address (the next original instruction) is written below rsp, rsp moves
    down, rip becomes the target (an immediate, a register, or a memory operand whose
    effective address is computed from the registers and read from the tracee).
  - "step": anything else (loop/jrcxz, far transfers, undecodable bytes, a slot out of
    rel32 reach): the old way, a single-step over the restored byte.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import capstone
from capstone import x86

MAX_INSN = 15
SLOT_SIZE = 48                       # insn (<= 15) + jcc (2) + two absolute jumps (14 each)
_JMP_ABS = b"\xff\x25\x00\x00\x00\x00"       # jmp *0(%rip); followed by the 8-byte target


def jmp_abs(target: int) -> bytes:
    return _JMP_ABS + struct.pack("<Q", target & 0xFFFFFFFFFFFFFFFF)


_md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
_md.detail = True

_STEP_MNEMONICS = {"loop", "loope", "loopne", "jrcxz", "jecxz", "jcxz", "xbegin", "ljmp", "lcall",
                   "int3", "int", "into", "iretq", "iret", "iretd", "sysenter"}


@dataclass
class Plan:
    kind: str                        # slot | jump | call | step
    addr: int
    length: int = 1
    target: int = 0                  # jump/call: the target when it is an immediate
    code: bytes = b""                # slot: the instruction bytes, displacement not yet moved
    disp_offset: int = 0             # slot: where a RIP-relative disp32 sits in `code` (0: none)
    jcc: int = -1                    # slot: condition code of a relative jcc, else -1
    operand: Any = None              # call: ("reg", name) | ("mem", base, index, scale, disp, seg)
    text: str = ""                   # the decoded instruction, for messages and tests
    extra: dict[str, Any] = field(default_factory=dict)

    def slot_code(self, slot: int) -> Optional[bytes]:
        """The slot's bytes when it lives at `slot`; None when a rel32 cannot reach."""
        nxt = self.addr + self.length
        if self.jcc >= 0:
            return bytes((0x70 | self.jcc, 14)) + jmp_abs(nxt) + jmp_abs(self.target)
        code = self.code
        if self.disp_offset:
            off = self.disp_offset
            disp = struct.unpack_from("<i", code, off)[0]
            new = disp + nxt - (slot + self.length)
            if not -(1 << 31) <= new < (1 << 31):
                return None
            code = code[:off] + struct.pack("<i", new) + code[off + 4:]
        return code + jmp_abs(nxt)


def _reg_name(reg: int) -> Optional[str]:
    return _md.reg_name(reg) if reg else None


def plan(addr: int, code: bytes) -> Plan:
    """The plan for the instruction whose bytes (at least its length, up to 15) start at `addr`."""
    try:
        insn = next(_md.disasm(code[:MAX_INSN], addr, 1))
    except StopIteration:
        return Plan("step", addr, text="(undecodable)")
    n, text = insn.size, f"{insn.mnemonic} {insn.op_str}".strip()
    mn = insn.mnemonic
    if mn in _STEP_MNEMONICS or insn.opcode[0] in (0x9A, 0xEA):
        return Plan("step", addr, n, text=text)
    groups = set(insn.groups)
    ops = list(insn.operands)
    if capstone.CS_GRP_CALL in groups:
        if len(ops) != 1:
            return Plan("step", addr, n, text=text)
        op = ops[0]
        if op.type == x86.X86_OP_IMM:
            return Plan("call", addr, n, target=op.imm, text=text)
        if op.type == x86.X86_OP_REG:
            name = _reg_name(op.reg)
            if name is None or not name.startswith("r"):
                return Plan("step", addr, n, text=text)
            return Plan("call", addr, n, operand=("reg", name), text=text)
        if op.type == x86.X86_OP_MEM and op.size == 8:
            m = op.mem
            base = "rip" if m.base == x86.X86_REG_RIP else _reg_name(m.base)
            index = _reg_name(m.index)
            seg = _reg_name(m.segment)
            if (base not in (None, "rip") and not base.startswith("r")) or \
                    (index is not None and not index.startswith("r")) or seg not in (None, "fs", "gs"):
                return Plan("step", addr, n, text=text)
            return Plan("call", addr, n, operand=("mem", base, index, m.scale, m.disp, seg), text=text)
        return Plan("step", addr, n, text=text)
    if capstone.CS_GRP_JUMP in groups and capstone.CS_GRP_BRANCH_RELATIVE in groups:
        if len(ops) != 1 or ops[0].type != x86.X86_OP_IMM:
            return Plan("step", addr, n, text=text)
        if mn == "jmp":
            return Plan("jump", addr, n, target=ops[0].imm, text=text)
        op0 = insn.opcode[0]
        cc = (insn.opcode[1] & 0x0F) if op0 == 0x0F else (op0 & 0x0F)
        if not (0x70 <= op0 <= 0x7F or (op0 == 0x0F and 0x80 <= insn.opcode[1] <= 0x8F)):
            return Plan("step", addr, n, text=text)
        return Plan("slot", addr, n, target=ops[0].imm, jcc=cc, text=text)
    rip_rel = any(o.type == x86.X86_OP_MEM and o.mem.base == x86.X86_REG_RIP for o in ops)
    if rip_rel and insn.disp_size != 4:
        return Plan("step", addr, n, text=text)
    return Plan("slot", addr, n, code=bytes(insn.bytes), disp_offset=insn.disp_offset if rip_rel else 0,
                text=text)


def call_target(p: Plan, regs: Any, read: Callable[[int, int], bytes]) -> Optional[int]:
    """Where an emulated call goes, from the registers at the hit (None: unreadable)."""
    if p.operand is None:
        return p.target
    if p.operand[0] == "reg":
        return getattr(regs, p.operand[1])
    _, base, index, scale, disp, seg = p.operand
    ea = disp
    if base == "rip":
        ea += p.addr + p.length
    elif base is not None:
        ea += getattr(regs, base)
    if index is not None:
        ea += getattr(regs, index) * scale
    if seg == "fs":
        ea += regs.fs_base
    elif seg == "gs":
        ea += regs.gs_base
    raw = read(ea & 0xFFFFFFFFFFFFFFFF, 8)
    if len(raw) != 8:
        return None
    return int.from_bytes(raw, "little")
