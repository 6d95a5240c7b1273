"""Regenerate docs/compat.md: every stap probe type, language construct and tapset function.

Inputs: docs/data/stap-4.8-probe-types.txt and stap-4.8-functions.txt (the real
stap's `--dump-probe-types` and `--dump-functions` on this machine), and
uprobe-py's own registries. Run: python3 docs/gen_compat.py
"""
from __future__ import annotations

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from uprobe_py.builtins.registry import BUILTINS, load_all  # noqa: E402

KERNEL_ONLY = "impossible here: needs a kernel module or kprobes (this kernel has no kprobe_events)"

PROBE_RULES: list[tuple[str, str]] = [
    (r"^(begin|end|error|never)(\(number\))?$", "works"),
    (r"^timer\.(ms|s|sec|us|ns|hz|jiffies)\(number\)(\.randomize\(number\))?$", "works"),
    (r"^timer\.profile\.tick$", "no (as stap 4.8 on this kernel: no register_timer_hook); `timer.profile` "
                                  "works"),
    (r"^timer\.profile", "works: perf_event_open cpu-clock sampling on every CPU at the kernel tick rate "
                         "(CONFIG_HZ; stap's own fallback samples every 1 ms), with the interrupted pid/tid/cpu "
                         "and user IP (`uaddr`, `usymname`, `user_mode`)"),
    (r"^perf.*counter", "not yet (`.counter(\"NAME\")` and `@perf`: issue 5)"),
    (r"^perf\.", "works: `perf.type(N).config(M)` and the `perf.sw/hw/hw_cache.*` names with `.sample(N)`, "
                 "`.hz(F)`, `.process`, `.process(\"PATH\")` exactly as stap 4.8 resolves them (-p2 checked); "
                 "perf_event_open per CPU (system-wide, or the -c/-x target with inherit), ring buffers decoded "
                 "in C; handlers get pid/tid/cpu/execname and the user IP. Events the kernel refuses "
                 "(no PMU event: ENOENT) fail at start-up naming the errno; system-wide needs root, CAP_PERFMON "
                 "or perf_event_paranoid <= 0"),
    (r"^kernel\.trace", "not yet (tracefs tracepoints: issue 5)"),
    (r"^process(\((string|number)\))?(\.library\(string\))?\.(function\((string|number)\)(\.call|\.inline|\.return)?"
     r"|statement\((string|number)\))$",
     "works: ptrace int3 breakpoints placed from DWARF (or the symbol table), one stop per hit (the displaced "
     "instruction runs out of line); in the `-c` command and everything it starts (threads, fork, vfork, "
     "exec), in `-x PID` / `process(PID)` (attached, left running unharmed); libraries mapped at start or "
     "by dlopen; `.return` through an int3 at the return site matched by thread and stack pointer (the "
     "stack is never rewritten). Not system-wide: a `process(\"PATH\")` point applies to the traced processes"),
    (r"^process(\(number\))?\.statement\(number\)\.absolute$",
     "works with `process(PID)`: a run-time address of PID (stap 4.8 itself rejects it here)"),
    (r"^process(\((string|number)\))?\.syscall(\.return)?$",
     "works: `$syscall`, `$arg1..6`, `$return`, `$$parms`; a seccomp filter in the `-c` command stops only "
     "these calls, attached processes use PTRACE_SYSCALL"),
    (r"^process(\((string|number)\))?\.(thread\.)?(begin|end)$",
     "works: at exec, fork, attach, thread creation and exit of the traced processes"),
    (r"^process(\((string|number)\))?\.insn$", "works: single-stepping every instruction (slow by nature)"),
    (r"^process(\((string|number)\))?\.insn\.block$",
     "works where the CPU gives block-stepping (BTF); this VM does not: a clear run-time error says so"),
    (r"^process(\((string|number)\))?(\.provider\(string\))?\.mark\(string\)$",
     "yes with `-c CMD`: SDT markers (`<sys/sdt.h>`, `.note.stapsdt`) resolved as stap does (`-p2`, `-l`, "
     "`-L`), `$argN` from the note's argument specs, `$$name`, `$$provider`, `$$parms`, other `$var`s from "
     "the DWARF at the marker; semaphores raised while traced"),
    (r"^process.*\.(mark|provider)", "not yet (`.library(...)` SDT markers)"),
    (r"^process(\((string|number)\))?(\.library\(string\))?\.function\(string\)\.label\(string\)$",
     "works: the C labels (`DW_TAG_label` with an address) in the matched functions and their "
     "inline instances, resolved as stap does (`-p2`, `-l`, `-L`, its \"not contained by its scope\" "
     "warning, and its quirk of also probing symbol-table-only functions at their entry)"),
    (r"^process.*\.(callee|callees)", "not yet (callee probes)"),
    (r"^process.*\.plt", "not yet (PLT probes)"),
    (r"^process", "not yet"),
    (r"^(kernel|module|kprobe)", KERNEL_ONLY),
    (r"^netfilter", "impossible here: netfilter hooks need a kernel module"),
    (r"^procfs", "impossible here: /proc files are created by stap's kernel module"),
]

LANGUAGE = [
    ("comments `#`, `//`, `/* */`", "works"),
    ("integer literals: decimal, octal, hex; 64-bit wraparound", "works"),
    ("string literals with C escapes; adjacent literals joined", "works"),
    ("`probe P1, P2 { }`, `*` wildcards, `?`, `!`, `if (cond)` on probe points", "works"),
    ("probe aliases `=` (prologue) and `+=` (epilogue), `{ }, { }` bodies", "works"),
    ("`global` with initialisers, size `a[N]`, wrap-around `a%`; `private`", "works"),
    ("functions with optional types, recursion (MAXNESTING), overloading by arity", "works"),
    ("embedded C `%{ %}`", "impossible here: parsed (tapset files, `-g`), rejected at pass 2 — "
                           "there is no kernel module to run C in"),
    ("preprocessor `%( cond %? a %: b %)` over kernel_v, kernel_vr, arch, runtime (answers "
     "\"dyninst\"), systemtap_v, systemtap_privilege, guru_mode, CONFIG_*", "works"),
    ("`@define` macros with parameters; `.stpm` library macros", "works"),
    ("positional arguments `$1 @1 $# @#`", "works"),
    ("`if`/`else`, `while`, `for`, `break`, `continue`, `next`, `return`", "works"),
    ("`foreach`: value variable, key tuples, sort `+`/`-` on any key or the value, `limit`, "
     "slices `a[*, \"x\"]`, stat arrays sorted by `@count/@sum/...`", "works"),
    ("`foreach (b in @hist_linear(...))` bucket iteration, `@hist_*(s)[i]`", "works"),
    ("`delete` element, wildcard slice, whole array, scalar", "works"),
    ("`try { } catch (msg) { }`", "works"),
    ("operators: arithmetic, bit ops, shifts, comparisons, `&&`, `||`, `!`, ternary, `.`, `.=`, "
     "compound assignment, `++`/`--`", "works"),
    ("`in` membership, with `*` wildcards", "works"),
    ("regex `=~`/`!~` with `matched(n)`, `matched_str()`, `ngroups()`", "works (POSIX ERE, leftmost-longest, "
     "through the `regex` package's POSIX mode)"),
    ("statistics `<<<`, `@count @sum @min @max @avg @variance`, `@hist_linear`, `@hist_log`", "works"),
    ("`printf`/`sprintf` with all stap conversions and flags; `print`, `println`, `printd`, "
     "`printdln`, `sprint`, `sprintln`", "works"),
    ("`$var`, `$var->f[i]`, `&$var`, `$var$`/`$var$$`, `$$vars`/`$$parms`/`$$locals`, `$return`/`$$return`, "
     "`@var`, `@cast`, `@entry`", "yes in process probes (DWARF: registers, frame base via CFI, location "
     "lists, pieces, TLS of the executable); writes with -g (`$var = v`, `$p->f = v`, `$a[i] = v`, `@var`, "
     "`@cast`): memory (truncated to the object's size), registers (the whole value), bitfields, and stap's "
     "errors for `OP=`/`++`, non-lvalues, pretty/context variables; `DW_OP_entry_value`: a pass-2 error"),
    ("`@defined(expr)`", "yes: per probe for target expressions; 1 for other expressions"),
    ("`@perf(\"name\")`", "not yet (issue 5)"),
    ("limits MAXACTION, MAXSTRINGLEN, MAXMAPENTRIES, MAXNESTING, MAXERRORS via `-D`", "works"),
    ("run-time errors (`ERROR: ... near ... at FILE:L:C`), `error` probes, MAXERRORS", "works"),
    ("unread globals printed at exit in stap's format", "works"),
]

KNOWN_DIFFERENCES = [
    "`runtime` in preprocessor conditions answers `\"dyninst\"` (stap's user-space runtime), not "
    "`\"kernel\"`, so scripts pick their user-space branches.",
    "The `(similar: ...)` suggestions in unresolved-function and probe-point messages come from what "
    "uprobe-py offers, not from stap's whole kernel tapset library.",
    "With no target, context functions (`pid()`, `execname()`, ...) describe the uprobe-py process, "
    "as stap's describe its `stapio` process in `begin` probes.",
    "`@hist_linear` arguments that stap's runtime would refuse at start-up are refused at pass 2.",
    "`get_cycles()` counts nanoseconds (Python has no `rdtsc`); `printk`, `ftrace`, `system` are "
    "carried out from user space (see `man 3stap function::NAME` notes in builtins/).",
    "Unsorted `foreach` visits keys in insertion order, and a sorted one reorders the array in "
    "place, as stap's map does; ties in a sort keep insertion order.",
    "Tapset files (`/usr/share/systemtap/tapset/*.stp`) parse with `uprobe-py -p1`; stap refuses to "
    "run a tapset file directly.",
    "User-space symbols, modules and backtraces (`usymname`, `usymdata`, `umodname`, `ubacktrace`, "
    "`print_ubacktrace`, `ucallers`, ...) behave as stap run with `--ldd`: every module mapped in the "
    "traced process (the binary, ld.so, libc, other shared libraries) has its symbols and CFI, read from "
    "the files (and their separate debug files), without `-d`. `probemod()` in a process probe is stap's "
    "error (\"Cannot determine kernel module name\"): it names kernel modules only.",
    "`print_regs()` prints the traced thread's user registers in stap's x86_64 layout; the values stap "
    "reads from the CPU in kernel mode are shown as user space has them: FS/GS bases and selectors from "
    "the register set, CS as the kernel's 0010, CR0/CR2/CR3/CR4 as 0.",
    "`user_*` memory reads in `begin`, `end` and timer probes (no traced thread) fault: `user_string()` "
    "raises its copy fault, `user_int()` returns 0, `_warn` forms warn, as stap's do for an address its "
    "`stapio` process has not mapped.",
]

IMPOSSIBLE_FUNCS = {
    "dump_stack": "prints a kernel backtrace",
    "panic": "would crash the kernel",
}


def main() -> None:
    load_all()
    have = {(name, n) for (name, n) in BUILTINS}
    have_names = {name for (name, _n) in BUILTINS}
    out = ["# Compatibility with SystemTap 4.8",
           "",
           "Generated by `python3 docs/gen_compat.py` from the real stap's `--dump-probe-types` and "
           "`--dump-functions` (docs/data/) and uprobe-py's registries. Status: works / partial / "
           "not yet (with the issue that brings it) / impossible here (and why).",
           "",
           "## Language", "", "| construct | status |", "|---|---|"]
    out += [f"| {c} | {s} |" for c, s in LANGUAGE]
    out += ["", "## Known differences from stap", ""]
    out += [f"- {d}" for d in KNOWN_DIFFERENCES]
    out += ["", "## Probe points", "", "| probe point | status |", "|---|---|"]
    with open(os.path.join(HERE, "data", "stap-4.8-probe-types.txt")) as f:
        for line in f:
            pt = line.strip()
            if not pt:
                continue
            status = next((s for rx, s in PROBE_RULES if re.search(rx, pt)), "not yet")
            out.append(f"| `{pt}` | {status} |")
    out += ["", "## Tapset probe aliases: `syscall.NAME`, `syscall.NAME.return`", ""]
    from uprobe_py.syscalls import all_aliases
    from uprobe_py.syscalls.decode import CALLS
    decoded = sorted(CALLS)
    out += ["Work in the traced processes (the `-c` command's hierarchy, `-x PID`): the ptrace engine "
            "stops on exactly the probed calls (a seccomp filter in the `-c` command; PTRACE_SYSCALL in "
            "attached processes) and the variables are computed as stap's tapsets define them "
            "(uprobe_py/syscalls/). System-wide (no `-c`/`-x`) through tracepoints: issue 5.", "",
            f"- decoded ({len(decoded)}): " + ", ".join(f"`{a}`" for a in decoded),
            "- as in stap, one alias covers several calls, `name` telling which: "
            + ", ".join(f"`{a}` ({', '.join(CALLS[a].names)})" for a in decoded if len(CALLS[a].names) > 1),
            f"- the other {len(set(all_aliases()) - set(decoded))} aliases of stap 4.8 resolve with `name` and "
            "an `argstr` of the six raw argument registers in hex (uprobe-py's own form: stap has no "
            "generic one); `.return` has `name`, `retval`, `retstr` for all"]
    out += ["", "## Tapset functions", "",
            "Counts: see the end of the table.", "", "| function | status |", "|---|---|"]
    works = total = 0
    with open(os.path.join(HERE, "data", "stap-4.8-functions.txt")) as f:
        for line in f:
            sig = line.strip()
            m = re.match(r"([A-Za-z_0-9]+):\w+ \((.*)\)", sig)
            if not m:
                continue
            total += 1
            name = m.group(1)
            arity = len([p for p in m.group(2).split(",") if p.strip()])
            if (name, arity) in have:
                status = "works"
                works += 1
            elif name in IMPOSSIBLE_FUNCS:
                status = f"impossible here: {IMPOSSIBLE_FUNCS[name]}"
            elif name in have_names:
                status = "partial: other arities work"
            elif name.startswith("_"):
                status = "internal tapset helper (not for scripts)"
            else:
                status = "not yet"
            out.append(f"| `{sig.split(' /*')[0]}` | {status} |")
    out += ["", f"{works} of {total} tapset function signatures work.", ""]
    with open(os.path.join(HERE, "compat.md"), "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
