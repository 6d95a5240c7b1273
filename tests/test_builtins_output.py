"""Output helpers (uprobe_py/builtins/fn_output.py): ANSI sequences from
SystemTap 4.8's ansi.stp, indentation from indent.stp (its example output
shows the "%6d name(tid):" layout), speculation from speculative.stp."""
from __future__ import annotations


import pytest

from uprobe_py.builtins import fn_output
from uprobe_py.runtime.context import Context
from builtin_support import StubSession, fn


@pytest.fixture
def ctx() -> Context:
    return Context(StubSession())


def test_ansi(ctx: Context) -> None:
    fn("ansi_clear_screen", 0)(ctx)
    fn("ansi_set_color", 1)(ctx, 31)
    fn("ansi_set_color", 2)(ctx, 31, 42)
    fn("ansi_set_color", 3)(ctx, 31, 42, 1)
    fn("ansi_set_color", 3)(ctx, 31, 42, 0)
    fn("ansi_reset_color", 0)(ctx)
    fn("ansi_new_line", 0)(ctx)
    fn("ansi_cursor_move", 2)(ctx, 3, 7)
    fn("ansi_cursor_hide", 0)(ctx)
    fn("ansi_cursor_save", 0)(ctx)
    fn("ansi_cursor_restore", 0)(ctx)
    fn("ansi_cursor_show", 0)(ctx)
    assert ctx.session.out == [
        "\033[1;1H\033[J", "\033[31m", "\033[42;31m", "\033[42;31;1m",
        "\033[42;31m", "\033[0;0m", "\n", "\033[7;3H", "\033[>5I", "\033[s",
        "\033[u", "\033[>5h"]


def test_thread_indent(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [5_000_000_000]
    monkeypatch.setattr(fn_output.time, "time_ns", lambda: now[0])
    monkeypatch.setattr(fn_output, "proc_comm", lambda pid, tid=None: "app")
    ctx.pid = ctx.tid = 1338
    ti = fn("thread_indent", 1)
    assert ti(ctx, 1) == "     0 app(1338):"
    now[0] += 6000
    assert ti(ctx, 1) == "     6 app(1338): "
    now[0] += 6000
    assert ti(ctx, 1) == "    12 app(1338):  "
    now[0] += 6000
    assert ti(ctx, -1) == "    18 app(1338):  "
    assert ti(ctx, -1) == "    18 app(1338): "
    assert ti(ctx, -1) == "    18 app(1338):"
    now[0] += 1000
    assert ti(ctx, 1) == "     0 app(1338):"    # outermost again: timestamp reset


def test_indent_depth_functions(ctx: Context) -> None:
    d = fn("thread_indent_depth", 1)
    assert [d(ctx, 1), d(ctx, 1), d(ctx, -1), d(ctx, -1)] == [0, 1, 1, 0]
    g = fn("indent_depth", 1)
    assert [g(ctx, 1), g(ctx, 1), g(ctx, 1), g(ctx, -1)] == [0, 1, 2, 2]


def test_indent_is_thread_independent(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fn_output.time, "time_ns", lambda: 7_000_000)
    assert fn("indent", 1)(ctx, 1) == "     0 :"
    ctx.tid = 99
    assert fn("indent", 1)(ctx, 1) == "     0 : "


def test_speculation(ctx: Context) -> None:
    spec, speculate = fn("speculation", 0), fn("speculate", 2)
    a, b = spec(ctx), spec(ctx)
    assert (a, b) == (1, 2)
    speculate(ctx, a, "a1 ")
    speculate(ctx, b, "b1 ")
    speculate(ctx, a, "a2\n")
    fn("commit", 1)(ctx, a)
    assert ctx.session.out == ["a1 ", "a2\n"]
    fn("discard", 1)(ctx, b)
    fn("commit", 1)(ctx, b)
    fn("commit", 1)(ctx, a)
    assert ctx.session.out == ["a1 ", "a2\n"]


def test_speculation_buffer_is_bounded(ctx: Context) -> None:
    speculate = fn("speculate", 2)
    for i in range(fn_output.SPEC_MAX_ENTRIES + 3):
        speculate(ctx, 1, str(i))
    fn("commit", 1)(ctx, 1)
    assert len(ctx.session.out) == fn_output.SPEC_MAX_ENTRIES
    assert ctx.session.out[0] == "3"
