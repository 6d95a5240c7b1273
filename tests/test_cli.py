"""The command line end to end: options, targets, output files, signals, exit codes."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).parent.parent


def run(*args: str, input: bytes | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "uprobe_py", *args], cwd=ROOT, capture_output=True,
                          text=True, input=input.decode() if input else None, timeout=timeout)


def test_hello_world() -> None:
    r = run("-e", 'probe begin { println("hello") exit() }')
    assert (r.stdout, r.stderr, r.returncode) == ("hello\n", "", 0)


def test_script_from_stdin_with_args() -> None:
    r = run("-", "abc", "42", input=b'probe begin { printf("%s %d %d\\n", @1, $2 + 1, $#) exit() }')
    assert r.stdout == "abc 43 2\n"


def test_missing_positional_argument_is_a_parse_error() -> None:
    r = run("-e", "probe begin { println($1) exit() }")
    assert r.returncode == 1
    assert r.stderr.startswith("parse error: command line argument out of range [1-0]\n"
                               "         at: junk '' at <input>:1:23\n")


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "o.txt"
    r = run("-o", str(out), "-e", 'probe begin { println("to file") exit() }')
    assert r.returncode == 0 and r.stdout == ""
    assert out.read_text() == "to file\n"


def test_target_command_sets_target_and_ends_session() -> None:
    r = run("-c", "sleep 0.3", "-e", 'probe end { printf("target>0:%d\\n", target() > 0) }')
    assert r.returncode == 0
    assert r.stdout == "target>0:1\n"


def test_dash_x_sets_target() -> None:
    r = run("-x", "4242", "-e", "probe begin { println(target()) exit() }")
    assert r.stdout == "4242\n"


def test_timeout_runs_end_probes() -> None:
    t0 = time.monotonic()
    r = run("-T", "0.5", "-e", 'probe end { println("end ran") }')
    assert r.stdout == "end ran\n" and r.returncode == 0
    assert time.monotonic() - t0 < 10


def test_sigint_ends_like_exit_and_flushes_output() -> None:
    p = subprocess.Popen([sys.executable, "-m", "uprobe_py", "-e",
                          'global n probe timer.ms(5) { n++ } probe begin { println("started") } '
                          'probe end { printf("end n>0:%d\\n", n > 0) }'],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None
    assert p.stdout.readline() == "started\n"
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    assert out == "end n>0:1\n", err
    assert p.returncode == 0


def test_sigterm_ends_like_exit() -> None:
    p = subprocess.Popen([sys.executable, "-m", "uprobe_py", "-e",
                          'probe begin { println("up") } probe end { println("bye") }'],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None
    assert p.stdout.readline() == "up\n"
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=20)
    assert out == "bye\n" and p.returncode == 0


def test_set_global_and_define() -> None:
    r = run("-G", "x=7", "-G", "s=word", "-D", "MAXSTRINGLEN=4", "-e",
            'global x = 1, s = "" probe begin { println(x, " ", s . "xyz") exit() }')
    assert r.stdout == "7 wor\n"


def test_pass_3_prints_generated_python() -> None:
    r = run("-p3", "-e", "global a probe begin { a[1]++ }")
    assert r.returncode == 0
    assert "def p_0(c):" in r.stdout
    compile(r.stdout, "<generated>", "exec")


def test_pass_2_listing() -> None:
    r = run("-p2", "-e", 'global a, n probe begin { a[1, "x"] = "s"; n = 1 } probe end(5), timer.ms(100) { next }')
    assert r.stdout == ("# globals\na:string [long, string]\nn:long\n# probes\n"
                        "begin /* <- begin */\n"
                        "end(5) /* <- end(5),timer.ms(100) */\n"
                        "timer.ms(100) /* <- end(5),timer.ms(100) */\n")


def test_list_probes() -> None:
    r = run("-l", "timer.*")
    assert "timer.ms(NUMBER)" in r.stdout.splitlines()
    assert run("-l", "begin").stdout == "begin\n"
    assert run("-l", "nosuch.*").returncode == 1


def test_warnings_silenced_and_promoted() -> None:
    script = "probe begin { println(z) exit() }"
    r = run("-e", script)
    assert r.returncode == 1   # unresolved type: z is never assigned
    assert "WARNING: never-assigned local variable 'z'" in r.stderr
    r = run("-w", "-e", "probe begin { x = y; println(x) exit() }")
    assert "WARNING" not in r.stderr


def test_version_and_help() -> None:
    assert run("-V").stdout.startswith("uprobe-py ")
    assert "Usage: uprobe-py" in run("--help").stdout


def test_usage_errors_exit_1_without_traceback() -> None:
    for args in (["-p", "9", "-e", "probe begin {}"], ["--bogus"], [], ["/nonexistent.stp"]):
        r = run(*args)
        assert r.returncode == 1, args
        assert "Traceback" not in r.stderr
