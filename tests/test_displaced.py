"""One stop per hit: the displaced instruction run out of line (uprobe_py/ptrace/relocate.py,
scratch.py), checked on targets/insns.c, whose probe sites are instructions of every kind
the engine treats differently: RIP-relative loads and stores (slot with the displacement
moved), direct, register and memory-indirect calls (emulated), a tail jmp (emulated), short
and near conditional jumps both ways (slot with jcc over two absolute jumps), an indirect
jmp through a RIP-relative pointer, ret, and `loop` (the single-step fallback).

The plans are checked against the real binary's bytes; the traced runs check that every
site is hit exactly as often as the program executes it and that the program computes and
prints exactly what it does untraced, PIE and not, with and without CPU pinning.
"""
from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import capstone
import pytest

from uprobe_py.elf.image import ElfImage
from uprobe_py.ptrace.relocate import plan

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "targets" / "insns.c"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptrace_support import REASON, run, untraced  # noqa: E402

pytestmark = pytest.mark.skipif(bool(REASON), reason=REASON or "-")

KINDS = {"at_riprel_load": "slot", "at_riprel_store": "slot", "at_call": "call", "at_callreg": "call",
         "at_callmem": "call", "at_jmp": "jump", "at_jcc8": "slot", "at_jcc32": "slot",
         "at_jmpmem": "slot", "at_ret": "slot", "at_loop": "step"}
PER_ITERATION = {name: 1 for name in KINDS} | {"at_loop": 3}      # f_loop(3) runs `loop` 3 times


@pytest.fixture(scope="module")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("insns")
    got = {}
    for variant, flags in (("pie", []), ("nopie", ["-no-pie"])):
        path = out / f"insns-{variant}"
        subprocess.run(["gcc", "-O1", *flags, "-o", str(path), str(SRC)], check=True, capture_output=True)
        got[variant] = path
    return got


def _sites(path: Path) -> dict[str, tuple[int, bytes]]:
    img = ElfImage(str(path))
    data = path.read_bytes()
    out = {}
    for sym in img.symbols:
        if sym.name in KINDS:
            sec = next(s for s in img.elf.iter_sections() if s["sh_addr"] <= sym.addr < s["sh_addr"] + s["sh_size"])
            fo = sec["sh_offset"] + sym.addr - sec["sh_addr"]
            out[sym.name] = (sym.addr, data[fo:fo + 16])
    return out


@pytest.mark.parametrize("variant", ["pie", "nopie"])
def test_plans_for_each_instruction_kind(binaries: dict[str, Path], variant: str) -> None:
    sites = _sites(binaries[variant])
    assert set(sites) == set(KINDS)
    assert {name: plan(addr, code).kind for name, (addr, code) in sites.items()} == KINDS


def test_slot_code_keeps_rip_relative_targets_and_jumps_back(binaries: dict[str, Path]) -> None:
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.detail = True
    sites = _sites(binaries["pie"])
    for name in ("at_riprel_load", "at_riprel_store", "at_jmpmem"):
        addr, code = sites[name]
        orig = next(md.disasm(code, addr, 1))
        p = plan(addr, code)
        for slot in (addr + 0x10000, addr + 0x7000_0000):
            body = p.slot_code(slot)
            assert body is not None
            moved = next(md.disasm(body, slot, 1))
            # the same absolute address is referenced from the slot
            target = orig.address + orig.size + struct.unpack_from("<i", code, orig.disp_offset)[0]
            assert moved.address + moved.size + struct.unpack_from("<i", body, moved.disp_offset)[0] == target
            # then `jmp *0(%rip)` to the next original instruction
            tail = body[moved.size:]
            assert tail[:6] == b"\xff\x25\x00\x00\x00\x00"
            assert struct.unpack_from("<Q", tail, 6)[0] == addr + orig.size
        assert p.slot_code(addr + (1 << 32)) is None          # out of rel32 reach: no slot


def test_conditional_jump_slot_goes_both_ways(binaries: dict[str, Path]) -> None:
    addr, code = _sites(binaries["pie"])["at_jcc8"]
    p = plan(addr, code)
    body = p.slot_code(0x10000)
    assert body is not None and body[0] == 0x74 and body[1] == 14           # je over the first jmp
    assert struct.unpack_from("<Q", body, 2 + 6)[0] == addr + 2            # not taken: next instruction
    assert struct.unpack_from("<Q", body, 2 + 14 + 6)[0] == p.target       # taken: the jcc's target


SCRIPT = ('global hits probe process("{exe}").function("at_*") {{ hits[ppfunc()]++ }} '
          'probe end {{ foreach (f+ in hits) printf("%s %d\\n", f, hits[f]) }}')


@pytest.mark.parametrize("variant", ["pie", "nopie"])
@pytest.mark.parametrize("pin", ["1", "0"])
def test_every_site_hit_exactly_and_program_unchanged(binaries: dict[str, Path], tmp_path: Path,
                                                       variant: str, pin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = binaries[variant]
    n = 300
    monkeypatch.setenv("UPROBE_PY_PIN", pin)
    want_out, want_rc = untraced([str(exe), str(n)])
    out, err, rc = run(f"{exe} {n}", SCRIPT.format(exe=exe), tmp_path)
    assert err == "[uprobe-py exit 0]"
    assert rc == want_rc
    lines = out.splitlines()
    assert lines[0] == want_out.strip()
    assert lines[1:] == [f"{name} {n * PER_ITERATION[name]}" for name in sorted(KINDS)]


def test_return_probes_through_emulated_calls(binaries: dict[str, Path], tmp_path: Path) -> None:
    """.return sites follow calls the engine emulated: the return address it pushed is right."""
    exe = binaries["pie"]
    script = (f'global r probe process("{exe}").function("helper").return {{ r[register("rax")]++ }} '
              f'probe process("{exe}").function("at_*") {{ next }} '
              'probe end { foreach (v+ in r) printf("%d %d\\n", v, r[v]) }')
    out, err, rc = run(f"{exe} 4", script, tmp_path)
    assert err == "[uprobe-py exit 0]"
    # helper(i) returns i+1 and is reached five ways per iteration i = 0..3 (call, callreg,
    # callmem, the tail jmp and the jmp through helper_ptr)
    assert out.splitlines()[1:] == ["1 5", "2 5", "3 5", "4 5"]
