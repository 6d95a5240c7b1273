"""Target variables ($var, $$parms, @var, @cast, @entry, $return) in process probes.

Each test compiles targets/vars.c (every C type and location kind; its values are
fixed), runs uprobe-py on it and checks the exact text, the formats taken from the
C stap 4.8 generates (`stap -p3`): `%lld`/`%llu`, `'%#llc'` for chars, `%#p` for
pointers, `?` for floating point, `{...}`/`[...]` below the first level of `$`,
and `%#llx` per variable in `$$parms`. -O0 reads stack slots through the CFA
(DW_OP_fbreg over DW_OP_call_frame_cfa); -O2 reads location lists and registers.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptrace_support import REASON, ROOT, build  # noqa: E402

pytestmark = pytest.mark.skipif(bool(REASON), reason=REASON or "-")
TARGET_OUT = "res=-1399336655 s=100 in=9,10 p=yes tls=11 static=-3\n"


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tvar-targets")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


def run(app: Path, script: str, cache: Path, *opts: str) -> tuple[str, str, int]:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    script = script.replace("APP", str(app))
    r = subprocess.run([sys.executable, "-m", "uprobe_py", *opts, "-c", str(app), "-e", script], cwd=ROOT,
                       capture_output=True, text=True, env=env, timeout=120)
    return r.stdout, r.stderr, r.returncode


SCALARS = ('probe process("APP").function("use_rec") { '
           'println($k, " ", $ch, " ", $uc, " ", $sh, " ", $us, " ", $ll, " ", $ull, " ", $flag, " ", $col, " ", $ut) '
           'println($s$, " ", $r->i, " ", $r->u, " ", $r->l, " ", $r->c, " ", $r->bf1, " ", $r->bf2, " ", '
           '$r->name$, " ", $r->str$) '
           'println($r->in->s, " ", $r->arr[1]->s, " ", $r->ui, " ", $r->next->str$, " ", $r->next->d) }')
SCALARS_OUT = ('4 113 250 -300 60000 -9000000000 -446744073709551616 1 5 123\n'
               '"str arg" -5 4000000000 -1234567890123 90 5 -3 "abc" "hello"\n'
               '-7 2 42 "second" 4612811918334230528\n')


@pytest.mark.parametrize("variant", ["O0", "O2", "nopie", "O2-nopie"])
def test_scalars_members_bitfields_strings(outdir: Path, cache: Path, variant: str) -> None:
    app = build.build("vars", variant, outdir)
    out, err, rc = run(app, SCALARS, cache)
    assert out == TARGET_OUT + SCALARS_OUT, err
    assert rc == 0


def _mask_pointers(s: str) -> str:
    import re
    return re.sub(r"0x[0-9a-f]{6,}", "PTR", s)


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_pretty_printing(outdir: Path, cache: Path, variant: str) -> None:
    app = build.build("vars", variant, outdir)
    out, err, _ = run(app, 'probe process("APP").function("use_rec") { println($r$) println($r$$) '
                      'println($r->in$, " ", $r->arr$, " ", $r->arr$$, " ", $r->arr[1]$) println($$parms$) }', cache)
    want = ("{.i=-5, .u=4000000000, .l=-1234567890123, .c='Z', .b=1, .col=6, .bf1=5, .bf2=-3, .name=[...], "
            ".str=\"hello\", .in={...}, .arr=[...], <union>={...}, .next=PTR, .d=?}\n"
            "{.i=-5, .u=4000000000, .l=-1234567890123, .c='Z', .b=1, .col=6, .bf1=5, .bf2=-3, .name=\"abc\", "
            ".str=\"hello\", .in={.s=-7, .uc='\\310'}, .arr=[{.s=1, .uc='\\000'}, ...], <union>={.ui=42, .uf=?}, "
            ".next=PTR, .d=?}\n"
            "{.s=-7, .uc='\\310'} [{...}, ...] [{.s=1, .uc='\\000'}, ...] {.s=2, .uc='\\000'}\n"
            "r={.i=-5, .u=4000000000, .l=-1234567890123, .c='Z', .b=1, .col=6, .bf1=5, .bf2=-3, .name=[...], "
            ".str=\"hello\", .in={...}, .arr=[...], <union>={...}, .next=PTR, .d=?} k=4 ch='q' uc='\\372' sh=-300 "
            "us=60000 ll=-9000000000 ull=18000000000000000000 flag=1 col=5 ut=123 s=\"str arg\" dv=?\n")
    assert _mask_pointers(out) == TARGET_OUT + want, err


def test_parms_hex_and_locals(outdir: Path, cache: Path) -> None:
    app = build.build("vars", "O0", outdir)
    out, err, _ = run(app, 'probe process("APP").function("use_rec") { println($$parms) } '
                      'probe process("APP").function("main") { println($$locals) }', cache)
    lines = out.splitlines()
    assert lines[0] + "\n" == TARGET_OUT, err
    import re                       # main's locals are not initialised yet at its probe: any value
    assert re.fullmatch(r"second=\{\.\.\.\} r=\{\.\.\.\} n=0x[0-9a-f]+ res=0x[0-9a-f]+ s=0x[0-9a-f]+ "
                        r"in=\{\.\.\.\} p=0x[0-9a-f]+", lines[1]), lines[1]
    import re as _re
    assert _re.sub(r"\b([rs])=0x[0-9a-f]+", r"\1=PTR", lines[2]) == ("r=PTR k=0x4 ch=0x71 uc=0xfa sh=0xfffffffffffffed4 us=0xea60 "
                                        "ll=0xfffffffde78ee600 ull=0xf9ccd8a1c5080000 flag=0x1 col=0x5 ut=0x7b "
                                        "s=PTR dv=0x400a000000000000")


@pytest.mark.parametrize("variant", ["O0", "O2", "O2-nopie"])
def test_globals_tls_cast_defined(outdir: Path, cache: Path, variant: str) -> None:
    app = build.build("vars", variant, outdir)
    out, err, _ = run(app, 'probe process("APP").function("use_rec") { '
                      'println(@var("g_counter"), " ", @var("tls_var"), " ", @var("g_msg")$, " ", @var("g_arr")[2], '
                      '" ", @var("g_counter@vars.c")) '
                      'println(@cast($r, "struct rec")->next->i, " ", @defined($nosuch), @defined($k), " ", '
                      '@defined($nosuch) ? $nosuch : 7, " ", &$r->in == $r + 48) }', cache)
    assert out == TARGET_OUT + '7 11 "global message" 30 7\n2 01 7 1\n', err


@pytest.mark.parametrize("variant", ["O0", "O2"])
def test_pointer_pretty_index_and_return(outdir: Path, cache: Path, variant: str) -> None:
    app = build.build("vars", variant, outdir)
    out, err, _ = run(app, 'probe process("APP").function("sum_arr") { println($a[1], " ", $a$, " ", $n) } '
                      'probe process("APP").function("get_inner").return { println($return$, " ", $$return) } '
                      'probe process("APP").function("pick").return { println($return$) }', cache)
    assert out == TARGET_OUT + "20 10 4\n{.s=9, .uc='\\n'} return=0xa0009\n\"yes\"\n", err


def test_entry_values_in_return_probes(outdir: Path, cache: Path) -> None:
    app = build.build("vars", "O2", outdir)           # parameters in registers at the entry
    out, err, _ = run(app, 'probe process("APP").function("get_inner").return { println($v, " ", @entry($v + 1)) } '
                      'probe process("APP").function("pick").return { println(@entry($which)) }', cache)
    assert out == TARGET_OUT + "9 10\n1\n", err


def test_read_fault_is_reported_at_the_variable(outdir: Path, cache: Path) -> None:
    app = build.build("vars", "O0", outdir)
    out, err, rc = run(app, 'probe process("APP").function("sum_arr") { println($a[5000000000]) }', cache)
    assert rc == 1
    assert err.startswith("ERROR: read fault [man error::fault] at 0x") and \
        "near identifier '$a' at <input>:1:" in err, err


def test_pass2_errors(outdir: Path, cache: Path) -> None:
    app = build.build("vars", "O0", outdir)
    _, err, rc = run(app, 'probe process("APP").function("pick") { println($nosuch) }', cache, "-p2")
    assert rc == 1
    assert err.startswith("semantic error: unable to find local 'nosuch', [man error::dwarf] dieoffset 0x") and \
        f" in {app}, near pc 0x" in err and " in pick " in err and \
        "(alternatives: $which)): identifier '$nosuch' at <input>:1:" in err, err
    assert "semantic error: unresolved type : identifier '$nosuch' at :1:" in err
    assert "Number of similar error messages suppressed: 1." in err
    _, err, _ = run(app, 'probe process("APP").function("use_rec") { println($r->nosuch) }', cache, "-p2")
    assert ("semantic error: unable to find member 'nosuch' for struct rec (alternatives: c, b, d, i, l, u, uf, ui, "
            "col, in, str, arr, bf1, bf2, name, next): operator '->' at <input>:1:") in err, err
    _, err, _ = run(app, 'probe process("APP").function("use_rec") { println($k->x, $r->in) }', cache, "-p2")
    assert "semantic error: invalid access '->x' vs. int: operator '->' at <input>:1:" in err, err
    _, err, _ = run(app, 'probe process("APP").function("use_rec") { println($r->in) }', cache, "-p2")
    assert ("semantic error: 'struct inner' (" in err and "vars.c:11) is being accessed instead of a member "
            "such as '->s': operator '->' at <input>:1:") in err, err
    _, err, _ = run(app, 'probe process("APP").function("use_rec") { $k = 1 }', cache, "-p2")
    assert err.startswith("semantic error: write to target variable not permitted; need stap -g: "
                          "identifier '$k' at <input>:1:"), err
    _, err, _ = run(app, 'probe begin { println($k) }', cache, "-p2")
    assert err.startswith("semantic error: unresolved target-symbol expression: identifier '$k' at <input>:1:23")
    _, err, _ = run(app, 'probe process("APP").function("use_rec") { println(@cast($r, "struct nosuch")->i) }',
                    cache, "-p2")
    assert f"semantic error: type definition 'struct nosuch' not found in '{app}': operator '@cast'" in err, err


def test_shared_handler_resolves_per_probe(outdir: Path, cache: Path) -> None:
    app = build.build("vars", "O0", outdir)
    out, err, _ = run(app, 'probe process("APP").function("sum_arr"), process("APP").function("pick") '
                      '{ println(pp() =~ "pick" ? sprint(@defined($which) ? $which : -1) : sprint(@defined($n) ? $n : -2)) }', cache)
    assert out == TARGET_OUT + "4\n1\n", err
