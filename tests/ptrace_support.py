"""Shared by the tests that build a target program and trace it with uprobe-py.

`build` is targets/build.py (the targets in every variant); `REASON` is why the ptrace
engine cannot run here ("" when it can: skip with it); `run` runs the CLI on a `-c`
command and reports the command's exit status, `untraced` runs the command alone;
`compile_target` builds one targets/NAME.c with the given gcc flags.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("target_build", ROOT / "targets" / "build.py")
assert _spec and _spec.loader
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

# uprobe-py's CLI, printing the -c command's exit status on stderr once the session has ended it
WRAP = """
import os, sys
import uprobe_py.runtime.target as t
_end = t.TargetCommand.end
def end(self):
    _end(self)
    sys.stderr.write("target-status=%d\\n" % os.waitstatus_to_exitcode(self.status))
t.TargetCommand.end = end
from uprobe_py.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _ptrace_reason() -> str:
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        return "the ptrace engine is x86_64 Linux only"
    if not build.available():
        return "gcc/g++/strip are not installed"
    from uprobe_py.ptrace.syscalls import ptrace_permitted
    ok, why = ptrace_permitted()
    return "" if ok else f"ptrace is not permitted here ({why})"


REASON = _ptrace_reason()


def run(cmd: str, script: str, cache: Path, *opts: str, timeout: float = 120) -> tuple[str, str, int]:
    """(stdout, stderr without the wrapper's line, target exit status) of `uprobe-py -c CMD -e SCRIPT`."""
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", WRAP, *opts, "-c", cmd, "-e", script], cwd=ROOT,
                       capture_output=True, text=True, env=env, timeout=timeout)
    lines = r.stderr.splitlines(keepends=True)
    status = [ln for ln in lines if ln.startswith("target-status=")]
    assert len(status) == 1, r.stderr
    rest = "".join(ln for ln in lines if not ln.startswith("target-status="))
    return r.stdout, rest + f"[uprobe-py exit {r.returncode}]", int(status[0].split("=")[1])


def untraced(cmd: list[str]) -> tuple[str, int]:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return r.stdout, r.returncode


def compile_target(name: str, out: Path, *flags: str) -> Path:
    """`gcc FLAGS -o OUT targets/NAME.c` (raises when gcc fails); returns OUT."""
    subprocess.run(["gcc", *flags, "-o", str(out), str(ROOT / "targets" / f"{name}.c")],
                   check=True, capture_output=True)
    return out
