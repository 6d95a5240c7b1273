"""C++ target variables on targets/cppvars.cc (class members through `$this`, references,
a base class, a namespace, an enum class, std::string).

The values are compared with what the program prints about itself; the formats are
those of the C stap 4.8 generates (`stap -p3`): a reference reads as the address it
holds (`$factor` is a pointer-sized value, `$r->...`/`$s->id` go through it, `$s$`
and `$$vars$` print the referred object), `$this$` prints a class's own members and
then its base classes' members at the same level (`{.name=..., .id=4, .weight=40}`),
std::string its fields, an enum class its number. `@cast` to a namespaced type is an
error in stap 4.8 (its type lookup does not enter namespaces): the same error here.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_process_resolve import oracle  # noqa: E402
from test_process_resolve import run as run_cli  # noqa: E402
from ptrace_support import REASON, build, run, untraced  # noqa: E402

PROGRAM = "area=24 f=4 use=10 id=4 weight=40 name=square color=7\n"
THIS1 = '{.name="square", .color=7, .scale=?, .dims=[...], .id=4, .weight=40}'
THIS2 = '{.name="square", .color=7, .scale=?, .dims=[1, ...], .id=4, .weight=40}'


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not build.available():
        pytest.skip("gcc/g++/strip are not installed")
    return tmp_path_factory.mktemp("cppvars-targets")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


def app(outdir: Path, variant: str) -> Path:
    return build.build("cppvars", variant, outdir)


READS = ('probe process.function("area") { printf("id=%d weight=%d name=%s color=%d dims2=%d len=%d s=%s\\n", '
         '$this->id, $this->weight, user_string($this->name), $this->color, $this->dims[2], '
         '$tag->_M_string_length, user_string($tag->_M_dataplus->_M_p)) '
         'printf("factor=%d at %s\\n", user_int($factor), $factor == &$this->id ? "id" : "elsewhere") } '
         'probe process.function("use_ref") { printf("r=%d sid=%d sweight=%d c=%d\\n", user_int($r), $s->id, '
         '$s->weight, $c) }')


@pytest.mark.skipif(bool(REASON), reason=REASON or "-")
@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_members_references_bases_string(outdir: Path, cache: Path, variant: str) -> None:
    exe = app(outdir, variant)
    assert untraced([str(exe)]) == (PROGRAM, 0)
    out, err, status = run(str(exe), READS, cache)
    assert out == PROGRAM + ("id=4 weight=40 name=square color=7 dims2=3 len=5 s=hello\n"
                             "factor=3 at elsewhere\nr=4 sid=4 sweight=40 c=2\n"), err
    assert status == 0


@pytest.mark.skipif(bool(REASON), reason=REASON or "-")
@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_pretty_printing(outdir: Path, cache: Path, variant: str) -> None:
    exe = app(outdir, variant)
    script = ('probe process.function("area") { printf("%s\\n%s\\n%s\\n%s\\n", $this$, $this$$, $tag$, $$parms) } '
              'probe process.function("use_ref") { printf("%s\\n%s\\n", $s$, $$vars$) }')
    out, err, status = run(str(exe), script, cache)
    lines = out.splitlines()
    assert lines[0] == PROGRAM.strip()
    assert lines[1:4] == [THIS1, THIS2, "{._M_dataplus={...}, ._M_string_length=5, <union>={...}}"], err
    assert re.fullmatch(r"this=0x[0-9a-f]+ factor=0x[0-9a-f]+ tag=0x[0-9a-f]+", lines[4]), lines[4]
    assert lines[5:] == [THIS1, f"r=4 s={THIS1} c=2"]
    assert status == 0


@pytest.mark.skipif(bool(REASON), reason=REASON or "-")
@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_guru_write_to_a_member(outdir: Path, cache: Path, variant: str) -> None:
    exe = app(outdir, variant)
    out, err, status = run(str(exe), 'probe process.function("area") { $this->id = 10; $this->weight = -1 }',
                           cache, "-g")
    # -O2: main prints the fields it knows area() leaves alone from registers; use_ref reads memory
    want = "area=48 f=4 use=16 " + ("id=10 weight=-1" if variant == "O0" else "id=4 weight=40")
    assert out == want + " name=square color=7\n", err
    assert status == 0


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_listing_equals_stap(outdir: Path, cache: Path, variant: str) -> None:
    exe = app(outdir, variant)
    for point in (f'process("{exe}").function("*")', f'process("{exe}").function("geo::Shape::*")'):
        ref = oracle("-L", point, cwd=outdir)
        assert run_cli("-L", point, cache=cache).stdout == ref.stdout


@pytest.mark.parametrize("cast", ['"geo::Shape"', '"Shape"', '"class geo::Shape"'])
def test_namespaced_cast_errors_equal_stap(outdir: Path, cache: Path, cast: str) -> None:
    exe = app(outdir, "O0")
    script = f'probe process("{exe}").function("area") {{ println(@cast($this, {cast})->id) }}'
    ref = oracle("-p2", "-e", script, cwd=outdir)
    mine = run_cli("-p2", "-e", script, cache=cache)
    want = [ln for ln in ref.stderr.splitlines() if ln.startswith("semantic error")]
    assert [ln for ln in mine.stderr.splitlines() if ln.startswith("semantic error")][:1] == want[:1]
    assert mine.returncode == ref.returncode == 1
