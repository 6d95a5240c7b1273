"""User-memory built-ins (builtins/fn_umem.py) on a live target: targets/umem.c passes
pointers to known strings, integers, UTF-16/32 text and a buffer to probe_me(), whose
argument registers the script reads. Faults give stap's exact errors, warnings and
defaults, and never harm the target (its own output and exit status are checked)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ptrace_support import REASON, ROOT, build, run, untraced  # noqa: F401

pytestmark = pytest.mark.skipif(bool(REASON), reason=REASON or "-")

TAPSET = "/usr/share/systemtap/tapset/uconversions.stp"


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("umem-targets")


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


ARGS = ('s = register("rdi"); p = register("rsi"); u16 = register("rdx"); u32 = register("rcx"); '
        'b = register("r8"); lg = register("r9")\n')

SCRIPT = 'probe process.function("probe_me") {\n' + ARGS + r'''
  println(user_string(s))
  println(user_string_quoted(s))
  println(user_string_n(s, 5), "|", user_string_n_quoted(s, 5), "|", user_string_n_quoted(s, 100, 10))
  printf("%d %d %d %d %d %d %d %d\n", user_char(p), user_uint8(p+1), user_short(p+2), user_ushort(p+4),
         user_int(p+8), user_uint32(p+12), user_long(p+16), user_ulong(p+24))
  printf("%d %d %d %d %d %d\n", user_int8(p), user_int16(p+2), user_uint16(p+4), user_int32(p+12),
         user_int64(p+16), user_uint64(p+24))
  printf("%d %d %d\n", user_char_error(p), user_ushort_warn(p+4), user_long_warn(p+16))
  println(user_string_utf16(u16), "|", user_string_quoted_utf16(u16), "|", user_string_utf32(u32), "|",
          user_string_quoted_utf32(u32))
  println(user_buffer_quoted(b, 8, 100), "|", user_buffer_quoted(b, 8, 8))
  println(strlen(user_string(lg)), " ", strlen(user_string_n(lg, 20)), " ", strlen(user_string_n(lg, -5)))
  println(user_string(0, "bad"), "|", user_string2(0, "bad2"), "|", user_string_n(0, 3, "bad3"), "|",
          user_string_quoted(0), "|", user_string_n_quoted(-1, 4), "|", user_int(0), "|",
          user_string_nofault(0), "|", user_string_utf16(0, "u16"))
  println(user_string_warn(0), "|", user_string_warn(0, "w"), "|", user_int_warn(0), "|", user_char_warn(8),
          "|", user_short_warn(16))
  try { println(user_string(0)) } catch (e) { println("caught: ", e) }
  try { println(user_int_error(0)) } catch (e) { println("caught: ", e) }
  try { println(user_string_utf32(u32 + 24)) } catch (e) { println("caught: ", e, " ", u32 + 28 == strtol(substr(e, 37, 20), 16)) }
  try { println(user_buffer_quoted_error(0, 4, 10)) } catch (e) { println("caught: ", e) }
}
'''

WANT = r'''hello, "world"
	end
"hello, \"world\"\n\tend"
hello|"hello"|"hello"...
-5 250 -1234 60000 -123456 4000000000 -1234567890123 -81985529216486896
-5 -1234 60000 -294967296 -1234567890123 -81985529216486896
-5 60000 -1234567890123
h''' + "\u00e9\u20ac\U0001f600" + r'''!|"h\u00E9\u20AC\U0001F600!"|h''' + \
    "\u00e9\u20ac\U0001f600" + r'''!|"h\u00E9\u20AC\U0001F600!"
"a\000b\n\377cde"|"a"...
510 20 0
bad|bad2|bad3|0x0|0xffffffffffffffff|0||u16
|w|0|0|0
caught: user string copy fault -14 at 0x0 [man error::fault]
caught: read fault [man error::fault] at 0x0
caught: invalid UTF-32 character U+110000 at ADDR 1
caught: Unable to access user space data at 0x0
'''

WARNINGS = ["WARNING: user string copy fault -14 at 0x0 [man error::fault]",
            "WARNING: user int copy fault 0x0 [man error::fault]",
            "WARNING: user char copy fault at 0x8 [man error::fault]",
            "WARNING: user short copy fault 0x10 [man error::fault]"]


def test_strings_ints_and_faults(outdir: Path, cache_home: Path) -> None:
    app = build.build("umem", "O0", outdir)
    want_out, want_rc = untraced([str(app)])
    out, err, status = run(str(app), SCRIPT, cache_home)
    assert status == want_rc and want_out in out, err
    got = out.replace(want_out, "")
    bad = [ln for ln in got.split("\n") if "invalid UTF-32" in ln][0]
    addr = bad.split(" ")[-2]
    want = WANT.replace("ADDR", addr)
    assert got == want, err
    assert err.splitlines()[:-1] == WARNINGS, err


def test_uncaught_fault_is_stap_shaped_and_target_unharmed(outdir: Path, cache_home: Path) -> None:
    app = build.build("umem", "O2", outdir)
    want_out, want_rc = untraced([str(app)])
    out, err, status = run(str(app), 'probe process.function("probe_me") { println(user_string(42)) }',
                           cache_home)
    near = (f"identifier 'user_string_n' at {TAPSET}:128:10" if os.path.exists(TAPSET)
            else "identifier 'user_string' at <input>:1:46")
    assert err.splitlines()[0] == f"ERROR: user string copy fault -14 at 0x2a [man error::fault] near {near}", err
    assert out in ("", want_out)       # the session's end stops the -c command, as stap's does


def test_maxstringlen_limits_user_string(outdir: Path, cache_home: Path) -> None:
    app = build.build("umem", "O0", outdir)
    out, err, _ = run(str(app), 'probe process.function("probe_me") { lg = register("r9"); '
                      'println(strlen(user_string(lg)), " ", strlen(user_string_n(lg, 100)), " ", '
                      'user_string_n_quoted(lg, 3)) }', cache_home, "-DMAXSTRINGLEN=64")
    assert '62 62 "abc"' in out.splitlines(), err


def test_begin_probe_reads_fault(cache_home: Path) -> None:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-m", "uprobe_py", "-e",
                        'probe begin { println(user_int(4096), user_string(4096, "none")) '
                        'println(user_string_quoted(4096)) exit() }'],
                       cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)
    assert r.stdout == "0none\n0x1000\n", r.stderr


def test_data_symbols_modules_and_context(outdir: Path, cache_home: Path) -> None:
    from elftools.elf.elffile import ELFFile
    app = build.build("umem", "O0", outdir)
    real = os.path.realpath(app)
    with open(app, "rb") as f:
        elf = ELFFile(f)
        syms = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
    want_out, _ = untraced([str(app), "7"])
    out, err, _ = run(f"{app} 7", 'probe process.function("probe_me") { p = register("rsi") '
                      'println(usymdata(p), "|", usymdata(p + 4), "|", usymname(p + 8)) '
                      'println(umodname(p) == umodname(uaddr()), " ", umodname(uaddr())) '
                      'println(umodaddr(uaddr()), " ", umodbuildid(uaddr())) '
                      'println(cmdline_str(), "|", cmdline_arg(1), "|", execname(), "|", pid() == target()) '
                      'println(umodname(8)) }', cache_home)
    lines = out.replace(want_out, "").splitlines()
    size = syms["__TMC_END__"] - syms["g_ints"]          # the next symbol, as stap sizes symbols
    assert lines[0] == f"g_ints+0x0/{size:#x} [{real}]|g_ints+0x4/{size:#x} [{real}]|g_ints", out
    assert lines[1] == f"1 {real}"
    modaddr, bid = lines[2].split()
    assert int(modaddr) > syms["probe_me"] and int(modaddr) < syms["main"]     # PIE: module offset = vaddr
    import subprocess as sp
    notes = sp.run(["readelf", "-n", str(app)], capture_output=True, text=True).stdout
    assert f"Build ID: {bid}" in notes
    assert lines[3] == f"{app} 7|7|{app.name}|1"
    loc = (" near identifier 'umodname' at /usr/share/systemtap/tapset/linux/ucontext.stp:17:10"
           if os.path.exists(TAPSET) else "")
    assert err.splitlines()[0] == "ERROR: module cannot be found" + loc, err
