"""Dwarfless argument built-ins (uprobe_py/builtins/fn_args.py) on a real target: register
arguments 1-6, stack arguments past the sixth, 32-bit sign/zero extension, returnval and
returnstr; a stripped binary, so no DWARF can be involved."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptrace_support import REASON, run  # noqa: E402

pytestmark = pytest.mark.skipif(bool(REASON), reason=REASON or "-")

SRC = r'''
#include <stdio.h>
#include <errno.h>
__attribute__((noinline)) long eight(int a, unsigned b, long c, long d, long e, long f, long g, int h)
{ return a + b + c + d + e + f + g + h; }
__attribute__((noinline)) long fails(void) { return -ENOENT; }
int main(void) { long s = eight(-5, 4000000000u, 3, 4, 5, 6, -7, -8); printf("%ld %ld\n", s, fails()); return 0; }
'''


def test_dwarfless_arguments_and_return(tmp_path: Path) -> None:
    src = tmp_path / "args.c"
    src.write_text(SRC)
    exe = tmp_path / "args"
    subprocess.run(["gcc", "-O1", "-rdynamic", "-o", str(exe), str(src)], check=True, capture_output=True)
    subprocess.run(["strip", "--strip-all", str(exe)], check=True, capture_output=True)
    exe_s = str(exe)
    script = (f'probe process("{exe_s}").function("eight") {{ printf("%d %d %d %d %d %d\\n", int_arg(1), '
              'uint_arg(1), uint_arg(2), int_arg(2), long_arg(7), int_arg(8)) } '
              f'probe process("{exe_s}").function("eight").return {{ printf("ret %d\\n", returnval()) }} '
              f'probe process("{exe_s}").function("fails").return {{ printf("%s %s\\n", returnstr(1), returnstr(2)) }}')
    out, err, rc = run(exe_s, script, tmp_path)
    assert err == "[uprobe-py exit 0]"
    lines = out.splitlines()
    assert "3999999998 -2" in lines                 # the program's own line (its buffering decides where)
    lines.remove("3999999998 -2")
    assert lines == ["-5 4294967291 4000000000 -294967296 -7 -8", "ret 3999999998", "-2 (ENOENT) -2 (ENOENT)"]
