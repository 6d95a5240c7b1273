"""Process probe points resolved against ELF/DWARF (issue 3's first slice): -p2, -l, -L.

The targets (targets/*.c, *.cc) are compiled here in every variant of targets/build.py;
addresses depend on the compiler, so nothing about them is recorded: the cross-checks
ask the real stap (../shared/tools/stap-oracle, when it is set up on this machine) and
compare, and the other tests assert properties any correct resolution has (the pc is
inside the function and after its prologue, stripped binaries resolve from symbols,
C++ names demangle, wildcards and $PATH work, errors read as stap's).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptrace_support import ROOT, build  # noqa: E402

ORACLE = ROOT.parent / "shared" / "tools" / "stap-oracle"

VARIANTS = list(build.VARIANTS)
CASES = [(t, v) for t in build.TARGETS for v in VARIANTS]


@pytest.fixture(scope="module")
def bins(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    if not build.available():
        pytest.skip("gcc/g++/strip are not installed")
    return build.build_all(tmp_path_factory.mktemp("targets"))


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


def run(*args: str, cache: Path, cwd: Path | None = None, env: dict[str, str] | None = None,
        tool: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    e = dict(os.environ, XDG_CACHE_HOME=str(cache), **(env or {}))
    cmd = (tool or [sys.executable, "-m", "uprobe_py"]) + list(args)
    if tool is None:
        e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return subprocess.run(cmd, cwd=cwd or ROOT, capture_output=True, text=True, env=e, timeout=300)


_oracle_state: list[str] = []


def oracle_reason() -> str:
    """Empty when stap-oracle can answer here, else why not (the cross-checks then skip)."""
    if not _oracle_state:
        if not ORACLE.exists():
            _oracle_state.append(f"{ORACLE} is not there")
        elif shutil.which("stap") is None:
            _oracle_state.append("stap is not installed (run ../shared/tools/stap-oracle once as root)")
        else:
            r = subprocess.run([str(ORACLE), "-l", "begin"], capture_output=True, text=True, timeout=120)
            _oracle_state.append("" if r.stdout == "begin\n" else "stap-oracle does not run: " + r.stderr[-200:])
    return _oracle_state[0]


def oracle(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    reason = oracle_reason()
    if reason:
        pytest.skip(reason)
    return subprocess.run([str(ORACLE), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def p2(point: str) -> list[str]:
    return ["-p2", "-e", f"probe {point} {{ print(1) }}"]


def probe_lines(out: str) -> list[str]:
    return sorted(line for line in out.splitlines() if line.startswith("process("))


# --- cross-checks against stap --------------------------------------------------------
@pytest.mark.parametrize("target,variant", CASES, ids=[f"{t}-{v}" for t, v in CASES])
def test_p2_pcs_equal_stap(bins: dict, cache_home: Path, target: str, variant: str) -> None:
    exe = bins[target, variant]
    point = f'process("{exe}").function("*")'
    ref = oracle(*p2(point), cwd=exe.parent)
    mine = run(*p2(point), cache=cache_home)
    assert probe_lines(mine.stdout) == probe_lines(ref.stdout)
    assert (mine.returncode == 0) == (ref.returncode == 0)


@pytest.mark.parametrize("target,variant", CASES, ids=[f"{t}-{v}" for t, v in CASES])
def test_L_variables_equal_stap(bins: dict, cache_home: Path, target: str, variant: str) -> None:
    exe = bins[target, variant]
    point = f'process("{exe}").function("*")'
    ref = oracle("-L", point, cwd=exe.parent)
    mine = run("-L", point, cache=cache_home)
    assert mine.stdout == ref.stdout
    assert mine.returncode == ref.returncode


@pytest.mark.parametrize("target,variant,src", [("simple", "O0", "simple.c"), ("simple", "nopie", "simple.c"),
                                                ("cpp", "O0", "cpp.cc")])
def test_statement_listing_equals_stap(bins: dict, cache_home: Path, target: str, variant: str, src: str) -> None:
    exe = bins[target, variant]
    for opt in ("-l", "-L"):
        point = f'process("{exe}").statement("*@{src}:*")'
        assert run(opt, point, cache=cache_home).stdout == oracle(opt, point, cwd=exe.parent).stdout


@pytest.mark.parametrize("variant,pattern", [
    ("O0", 'function("fib")'), ("O2", 'function("square")'), ("O2", 'function("square").inline'),
    ("O2", 'function("fib").call'), ("O0", 'statement("add@simple.c:16")'),
    ("O0", 'statement("fib@simple.c+2")'), ("O2", 'statement("*@simple.c:20-24")'),
    ("O0", 'function("*@simple.c")'), ("O0", 'function("g*@*.c")'), ("O0", 'statement("greet")'),
    ("cpp-O0", 'function("geo::util::clamp")'), ("cpp-O0", 'function("Vec::*")'),
    ("cpp-O2", 'function("*::*")'), ("cpp-O0", 'function("_ZN3geo4util5clampEiii")'),
    ("cpp-nodebug", 'function("*clamp*")'),
])
def test_patterns_equal_stap(bins: dict, cache_home: Path, variant: str, pattern: str) -> None:
    target, _, v = variant.rpartition("-") if variant.startswith("cpp-") else ("simple", "", variant)
    exe = bins[target, v]
    point = f'process("{exe}").{pattern}'
    ref = oracle(*p2(point), cwd=exe.parent)
    assert probe_lines(run(*p2(point), cache=cache_home).stdout) == probe_lines(ref.stdout)


def test_no_match_message_equals_stap(bins: dict, cache_home: Path) -> None:
    exe = bins["simple", "O0"]
    point = f'process("{exe}").function("nosuch")'
    ref = oracle(*p2(point), cwd=exe.parent)
    mine = run(*p2(point), cache=cache_home)
    want = [ln for ln in ref.stderr.splitlines() if ln.startswith("semantic error")]
    assert [ln for ln in mine.stderr.splitlines() if ln.startswith("semantic error")] == want


# --- properties, no stap needed ------------------------------------------------------------
def resolve(exe: Path, pattern: str, statement: bool = False, **flags: bool) -> list:
    from uprobe_py.elf.dwarf_index import DwarfIndex
    from uprobe_py.elf.image import ElfImage
    from uprobe_py.elf.query import Query, parse_spec
    img = ElfImage(str(exe))
    index = DwarfIndex(img, use_cache=False) if img.dwarf_elf else None
    return [img, index, Query(img, index, parse_spec(pattern), statement, **flags).run()]


def test_pc_inside_function_and_after_prologue_at_O0(bins: dict) -> None:
    img, index, sites = resolve(bins["simple", "O0"], "*")
    assert index is not None
    names = {s.pp_func.split("@")[0] for s in sites}
    assert {"add", "fib", "square", "greet", "move_point", "make_point", "noop", "main", "_start"} <= names
    for s in sites:
        if "@" not in s.pp_func:
            continue                                  # symbol-table functions: their entry
        sym = img.symbols_by_name[s.pp_func.split("@")[0]][0]
        assert sym.addr < s.addr < sym.addr + sym.size, s.pp_func
        rows = index.lines(s.cu).rows
        assert any(r.addr == s.addr for r in rows), "a probe sits on a line-table row"
        first_line = next(r.line for r in rows if r.addr == sym.addr)
        assert next(r.line for r in rows if r.addr == s.addr) != first_line or s.addr > sym.addr


def test_O2_functions_probe_their_entry(bins: dict) -> None:
    img, index, sites = resolve(bins["simple", "O2"], "add")
    assert [s.addr for s in sites] == [img.symbols_by_name["add"][0].addr]
    assert index is not None and index.cu(sites[0].cu).valid_locs


def test_inline_instances_and_call_and_return(bins: dict) -> None:
    exe = bins["simple", "O2"]
    _, _, inl = resolve(exe, "square", inline=True)
    assert inl and all(s.pp_func.startswith("square@") for s in inl)
    assert resolve(exe, "square", call=True)[2] == []
    img, _, ret = resolve(bins["simple", "O0"], "add", ret=True)
    assert [s.addr for s in ret] == [img.symbols_by_name["add"][0].addr]     # .return: the entry pc


@pytest.mark.parametrize("variant", ["nodebug", "strip-debug", "stripped"])
def test_stripped_binaries_resolve_from_symbols(bins: dict, cache_home: Path, variant: str) -> None:
    exe = bins["simple", variant]
    r = run(*p2(f'process("{exe}").function("add")'), cache=cache_home)
    assert r.returncode == 0, r.stderr
    from uprobe_py.elf.image import ElfImage
    img = ElfImage(str(exe))
    addr = img.symbols_by_name["add"][0].addr
    assert r.stdout == (f'# probes\nprocess("{exe}").function("add") /* pc=.dynamic+{addr:#x} */ '
                        f'/* <- process("{exe}").function("add") */\n')


def test_fixed_address_binaries_print_absolute_offsets(bins: dict, cache_home: Path) -> None:
    exe = bins["simple", "nopie"]
    from uprobe_py.elf.image import ElfImage
    img = ElfImage(str(exe))
    assert not img.relocatable and img.load_base == 0x400000
    r = run(*p2(f'process("{exe}").function("noop")'), cache=cache_home)
    assert "/* pc=.absolute+0x1" in r.stdout


def test_cpp_names_demangled(bins: dict) -> None:
    from uprobe_py.elf.image import ElfImage, demangle
    img = ElfImage(str(bins["cpp", "nodebug"]))
    assert {s.demangled for s in img.symbols} >= {"geo::util::clamp(int, int, int)", "Counter::bump(int)"}
    assert demangle("main") == "main" and demangle("_Znot a name") == "_Znot a name"
    _, _, sites = resolve(bins["cpp", "O0"], "geo::util::clamp")
    assert [s.pp_func.split("@")[0] for s in sites] == ["geo::util::clamp"]


def test_wildcards(bins: dict) -> None:
    exe = bins["simple", "O0"]
    def names(p: str) -> set[str]:
        return {s.pp_func.split("@")[0] for s in resolve(exe, p)[2]}
    assert names("mo*") == {"move_point"}
    assert names("?dd") == {"add"}
    assert names("[fg]*") == {"fib", "greet", "frame_dummy"}
    assert names("*@simple.c") == {"add", "fib", "square", "greet", "move_point", "make_point", "noop", "main"}


def test_path_lookup_and_dash_c(bins: dict, cache_home: Path, tmp_path: Path) -> None:
    from uprobe_py.probes.process import find_executable
    assert find_executable("sh") == os.path.realpath(shutil.which("sh") or "")
    exe = bins["simple", "O0"]
    r = run(*p2(f'process("{exe.name}").function("add")'), cache=cache_home,
            env={"PATH": f"{exe.parent}:{os.environ.get('PATH', '')}"}, cwd=tmp_path)
    assert f'process("{exe}").function("add@' in r.stdout
    r = run("-c", f"{exe} 2", *p2('process.function("add")'), cache=cache_home)
    assert f'process("{exe}").function("add@' in r.stdout
    r = run(*p2('process.function("add")'), cache=cache_home)
    assert "unspecified process probe is invalid without a -c COMMAND or -x PID [man stapprobes]" in r.stderr


def test_errors_read_as_stap(bins: dict, cache_home: Path) -> None:
    exe = bins["simple", "O0"]
    r = run(*p2(f'process("{exe}").function("nosuch")'), cache=cache_home)
    assert r.returncode == 1
    assert r.stderr.startswith("semantic error: while resolving probe point: identifier 'process' at <input>:1:7\n")
    assert "\nsemantic error: no match (similar functions: " in r.stderr
    r = run(*p2('process("/nonexistent/app").function("main")'), cache=cache_home)
    assert "\nsemantic error: no match\n" in r.stderr
    r = run(*p2(f'process("{exe}").foo'), cache=cache_home)
    assert "probe point mismatch (similar: end, plt, insn, mark, begin)" in r.stderr
    r = run(*p2(f'process("{exe}").function("add").return.call'), cache=cache_home)
    assert "semantic error: invalid suffix for probe: identifier 'call'" in r.stderr


def test_p2_listing_marks_optional_points(bins: dict, cache_home: Path) -> None:
    exe = bins["simple", "O0"]
    r = run(*p2(f'process("{exe}").function("ad*")?'), cache=cache_home)
    line = r.stdout.splitlines()[1]
    assert line.startswith(f'process("{exe}").function("add@') and line.endswith('")? */')
    assert ')? /* pc=.dynamic+0x' in line


def test_L_format(bins: dict, cache_home: Path) -> None:
    exe = bins["simple", "O0"]
    r = run("-L", f'process("{exe}").function("add")', cache=cache_home)
    src = ROOT / "targets" / "simple.c"
    assert r.stdout == f'process("{exe}").function("add@{src}:14") $a:int $b:int\n'
    r = run("-L", f'process("{exe}").function("move_point")', cache=cache_home)
    assert r.stdout.endswith(" $p:struct point* $dx:int $dy:int\n")


def test_index_cached_by_build_id(bins: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from uprobe_py.elf.dwarf_index import DwarfIndex
    from uprobe_py.elf.image import ElfImage
    from uprobe_py.elf.query import Query, parse_spec
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    img = ElfImage(str(bins["simple", "O0"]))
    first = Query(img, DwarfIndex(img), parse_spec("*"), False)
    sites = first.run()
    assert first.index is not None
    first.index.save()
    assert (tmp_path / "uprobe-py" / f"{img.build_id}.idx").exists()
    def no_dwarf(*a: object) -> None:
        raise AssertionError("DWARF read although the index is cached")
    monkeypatch.setattr(DwarfIndex, "_scan_cu", no_dwarf)
    again = Query(img, DwarfIndex(img), parse_spec("*"), False).run()
    assert [(s.pp_func, s.addr) for s in again] == [(s.pp_func, s.addr) for s in sites]


def test_run_time_is_a_clean_error_where_the_ptrace_engine_cannot_go_yet(bins: dict, cache_home: Path) -> None:
    # the ptrace engine traces the -c command's hierarchy and attached processes, not every
    # process that runs a program (stap's system-wide process("PATH") probes)
    exe = bins["simple", "O0"]
    r = run("-e", f'probe process("{exe}").function("add") {{ print(1) }} probe error {{ println("err") }}',
            cache=cache_home)
    assert r.returncode == 1 and r.stdout == "err\n"
    assert r.stderr.startswith("ERROR: process probes need a process to trace: -c CMD, -x PID or process(PID) "
                               "(uprobe-py does not probe every process that runs a program)\n")
    r = run("-c", f"{exe} 1", "-e", f'probe process("{exe}").function("add").return {{ print(1) }} '
            'probe error { println("err") }', cache=cache_home)
    # .return probes now run there too (tests/test_ptrace_engine.py): one hit, no error
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.replace("sum=82 x=2 y=1 origin\n", "") == "1"
