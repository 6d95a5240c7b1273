"""The C DWARF reader (uprobe_py/elf/scan.py, _native/dwarfscan.c) against pyelftools.

DwarfIndex builds its per-CU records and line tables with the C reader and falls back
to pyelftools for a unit the reader declines; both must give the same records. Built
here in the DWARF flavours the reader decodes differently: 5 and 4 (and 3), 64-bit
DWARF, SHF_COMPRESSED sections, C and C++; plus corrupted sections, which must never
crash it (a declined unit is None, and DwarfIndex then asks pyelftools).
"""
from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from uprobe_py.elf import scan as S
from uprobe_py.elf.dwarf_index import DwarfIndex
from uprobe_py.elf.image import ElfImage
from uprobe_py.elf.lines import LineTable

ROOT = Path(__file__).resolve().parent.parent
FLAVOURS = {
    "c-dw5-O0": ("simple.c", "gcc", ["-g", "-O0"]),
    "c-dw5-O2": ("simple.c", "gcc", ["-g", "-O2"]),
    "c-dw4-O2": ("simple.c", "gcc", ["-g", "-O2", "-gdwarf-4"]),
    "c-dw3-O2": ("simple.c", "gcc", ["-g", "-O2", "-gdwarf-3"]),
    "c-dw64-O2": ("simple.c", "gcc", ["-g", "-O2", "-gdwarf64"]),
    "c-gz-O2": ("simple.c", "gcc", ["-g", "-O2", "-gz"]),
    "cc-dw5-O2": ("cpp.cc", "g++", ["-g", "-O2"]),
    "cc-dw4-O0": ("cpp.cc", "g++", ["-g", "-O0", "-gdwarf-4"]),
}

pytestmark = pytest.mark.skipif(not S.available(), reason="the dwarfscan extension is not built")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not (shutil.which("gcc") and shutil.which("g++")):
        pytest.skip("gcc/g++ are not installed")
    out = tmp_path_factory.mktemp("dwarfscan")
    got = {}
    for name, (src, cc, flags) in FLAVOURS.items():
        exe = out / name
        r = subprocess.run([cc, *flags, "-o", str(exe), str(ROOT / "targets" / src)], capture_output=True)
        if r.returncode == 0:
            got[name] = exe
    return got


def state(rec: object) -> tuple:
    return (rec.off, rec.name, rec.c_lang, rec.gcc_version, rec.valid_locs, rec.inlines,  # type: ignore[attr-defined]
            [f.__getstate__() for f in rec.funcs])  # type: ignore[attr-defined]


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_records_and_lines_equal_pyelftools(built: dict[str, Path], flavour: str) -> None:
    if flavour not in built:
        pytest.skip(f"the compiler cannot build {flavour}")
    index = DwarfIndex(ElfImage(str(built[flavour])), use_cache=False)
    assert index.scanner is not None
    offs = index.cu_offsets()
    assert offs == [cu.cu_offset for cu in index.dwarfinfo.iter_CUs()]
    for off in offs:
        fast = index._fast_scan_cu(off)
        assert fast is not None, "the reader declined a plain unit"
        if flavour == "c-dw64-O2":        # pyelftools cannot read a 64-bit line table header
            assert fast.funcs
            continue
        assert state(fast) == state(index._scan_cu_pyelftools(index.cu_object(off)))
        lt = index._fast_lines(off)
        ref = LineTable(index.dwarfinfo, index.cu_object(off))
        assert lt is not None and (lt.files, lt.rows, lt.addrs) == (ref.files, ref.rows, ref.addrs)


def test_corrupt_sections_never_crash(built: dict[str, Path]) -> None:
    exe = built.get("cc-dw5-O2") or next(iter(built.values()))
    img = ElfImage(str(exe))
    good = S.Scanner.open(img.elf)
    assert good is not None
    rng = random.Random(7)
    info = bytearray(good.section(S.S_INFO) or b"")
    abbrev = bytearray(good.section(S.S_ABBREV) or b"")
    for trial in range(300):
        secs = {k: v for k, v in good._secs.items()}
        if trial % 3 == 0:
            b = bytearray(info)
            for _ in range(rng.randint(1, 20)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            secs[S.S_INFO] = bytes(b)
        elif trial % 3 == 1:
            b = bytearray(abbrev)
            for _ in range(rng.randint(1, 10)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            secs[S.S_ABBREV] = bytes(b)
        else:
            secs[S.S_INFO] = bytes(info[:rng.randrange(len(info))])
        try:
            sc = S.Scanner(img.elf, secs)
        except ValueError:
            continue                                   # unreadable unit headers: pyelftools decides
        for u in sc.units:
            raw = sc.scan_cu(u[0])
            assert raw is None or raw[0] == 0
            top = sc.top(u[0])
            if top is not None and top[5] != S.NONE:
                sc.line(top[5], u[5], True)


def test_declined_units_fall_back_to_pyelftools(built: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    exe = built["c-dw5-O2"]
    index = DwarfIndex(ElfImage(str(exe)), use_cache=False)
    want = [state(r) for r in index.all_records()]
    again = DwarfIndex(ElfImage(str(exe)), use_cache=False)
    monkeypatch.setattr(S.Scanner, "scan_cu", lambda self, off: None)
    monkeypatch.setattr(S.Scanner, "line", lambda self, off, size, rows: None)
    assert [state(r) for r in again.all_records()] == want
    assert again.lines(again.cu_offsets()[0]).rows == index.lines(index.cu_offsets()[0]).rows


@pytest.mark.parametrize("flavour", ["c-dw5-O2", "c-dw4-O2", "cc-dw5-O2", "cc-dw4-O0"])
def test_die_ranges_equal_pyelftools(built: dict[str, Path], flavour: str) -> None:
    from uprobe_py.elf import dies as D
    if flavour not in built:
        pytest.skip(f"the compiler cannot build {flavour}")
    index = DwarfIndex(ElfImage(str(built[flavour])), use_cache=False)
    n = 0
    for cu in index.dwarfinfo.iter_CUs():
        for die in cu.iter_DIEs():
            if die.tag in ("DW_TAG_subprogram", "DW_TAG_inlined_subroutine", "DW_TAG_lexical_block",
                           "DW_TAG_compile_unit"):
                assert index.scanner.die_ranges(die.offset) == D.die_ranges(die, index.dwarfinfo)
                n += 1
    assert n > 5
