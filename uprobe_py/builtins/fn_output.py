"""Output helper built-ins: ANSI escape sequences, indentation for nested
traces (indent, thread_indent and their *_depth twins), and speculative
output (speculation, speculate, commit, discard).

Input: the per-hit `Context` and stap values. Output: text appended with
`ctx.session.write`, or returned strings. State that stap keeps in tapset
globals lives per session in `ctx.extra` ("indent", "speculation").

Semantics follow SystemTap 4.8's `ansi.stp`, `indent.stp` (with
`indent-default.stp`: the timestamp is gettimeofday_us()) and
`speculative.stp`. Speculative buffers keep stap's wrap-around bound of
MAXMAPENTRIES (2048) pending pieces: the oldest piece is dropped first.
"""
from __future__ import annotations

import time

from uprobe_py.builtins.fn_context import proc_comm
from uprobe_py.builtins.registry import LONG, STRING, VOID, builtin
from uprobe_py.runtime.context import Context
from uprobe_py.runtime.values import wrap

G_ANSI = "Utility functions for using ansi control chars in logs"
G_INDENT = G_ANSI
G_SPEC = "Speculation"

# --- ANSI ---------------------------------------------------------------------------


@builtin("ansi_clear_screen", VOID, (), needs_ctx=True, group=G_ANSI)
def ansi_clear_screen(ctx: Context) -> None:
    ctx.session.write("\033[1;1H\033[J")


@builtin("ansi_set_color", VOID, (LONG,), needs_ctx=True, group=G_ANSI)
def ansi_set_color(ctx: Context, fg: int) -> None:
    ctx.session.write("\033[%dm" % fg)


@builtin("ansi_set_color", VOID, (LONG, LONG), needs_ctx=True, group=G_ANSI)
def ansi_set_color_fg_bg(ctx: Context, fg: int, bg: int) -> None:
    ctx.session.write("\033[%d;%dm" % (bg, fg))


@builtin("ansi_set_color", VOID, (LONG, LONG, LONG), needs_ctx=True, group=G_ANSI)
def ansi_set_color_attr(ctx: Context, fg: int, bg: int, attr: int) -> None:
    attr_str = ";%dm" % attr if attr else "m"
    ctx.session.write("\033[%d;%d%s" % (bg, fg, attr_str))


builtin("ansi_set_color2", VOID, (LONG, LONG), needs_ctx=True, group=G_ANSI)(ansi_set_color_fg_bg)
builtin("ansi_set_color3", VOID, (LONG, LONG, LONG), needs_ctx=True,
        group=G_ANSI)(ansi_set_color_attr)


@builtin("ansi_reset_color", VOID, (), needs_ctx=True, group=G_ANSI)
def ansi_reset_color(ctx: Context) -> None:
    ansi_set_color_attr(ctx, 0, 0, 0)


@builtin("ansi_new_line", VOID, (), needs_ctx=True, group=G_ANSI)
def ansi_new_line(ctx: Context) -> None:
    ctx.session.write("\n")


@builtin("ansi_cursor_move", VOID, (LONG, LONG), needs_ctx=True, group=G_ANSI)
def ansi_cursor_move(ctx: Context, x: int, y: int) -> None:
    ctx.session.write("\033[%d;%dH" % (y, x))


@builtin("ansi_cursor_hide", VOID, (), needs_ctx=True, group=G_ANSI)
def ansi_cursor_hide(ctx: Context) -> None:
    ctx.session.write("\033[>5I")


@builtin("ansi_cursor_save", VOID, (), needs_ctx=True, group=G_ANSI)
def ansi_cursor_save(ctx: Context) -> None:
    ctx.session.write("\033[s")


@builtin("ansi_cursor_restore", VOID, (), needs_ctx=True, group=G_ANSI)
def ansi_cursor_restore(ctx: Context) -> None:
    ctx.session.write("\033[u")


@builtin("ansi_cursor_show", VOID, (), needs_ctx=True, group=G_ANSI)
def ansi_cursor_show(ctx: Context) -> None:
    ctx.session.write("\033[>5h")


# --- indentation ----------------------------------------------------------------------
# ctx.extra["indent"] = (counters, timestamps), both keyed by tid, or -1 for
# the thread-independent indent()/indent_depth().

def _indent_state(ctx: Context) -> tuple[dict[int, int], dict[int, int]]:
    st = ctx.extra.get("indent")
    if st is None:
        st = ctx.extra["indent"] = ({}, {})
    return st


def _depth(counters: dict[int, int], idx: int, delta: int) -> int:
    # pre-increment for positive delta, post-decrement for negative delta
    cur = counters.get(idx, 0)
    x = wrap(cur + (max(0, delta)))
    counters[idx] = wrap(cur + delta)
    return x - 1 if x > 0 else 0


def _indent(ctx: Context, idx: int, desc: str, delta: int) -> str:
    counters, stamps = _indent_state(ctx)
    ts = time.time_ns() // 1000
    if not counters.get(idx, 0):
        stamps[idx] = ts
    depth = _depth(counters, idx, delta)
    # sprintf("%6d %s:%-*s", ts - base, desc, depth, ""): the caller cuts the
    # result at MAXSTRINGLEN-1, so a larger pad would be lost anyway.
    pad = min(depth, ctx.session.maxstringlen)
    return "%6d %s:%s" % (wrap(ts - stamps.get(idx, 0)), desc, " " * pad)


@builtin("thread_indent", STRING, (LONG,), needs_ctx=True, group=G_INDENT)
def thread_indent(ctx: Context, delta: int) -> str:
    tid = ctx.tid
    desc = "%s(%d)" % (proc_comm(ctx.pid, tid), tid)
    return _indent(ctx, tid, desc, delta)


@builtin("thread_indent_depth", LONG, (LONG,), needs_ctx=True, group=G_INDENT)
def thread_indent_depth(ctx: Context, delta: int) -> int:
    return _depth(_indent_state(ctx)[0], ctx.tid, delta)


@builtin("indent", STRING, (LONG,), needs_ctx=True, group=G_INDENT)
def indent(ctx: Context, delta: int) -> str:
    return _indent(ctx, -1, "", delta)


@builtin("indent_depth", LONG, (LONG,), needs_ctx=True, group=G_INDENT)
def indent_depth(ctx: Context, delta: int) -> int:
    return _depth(_indent_state(ctx)[0], -1, delta)


# --- speculative output ------------------------------------------------------------------

SPEC_MAX_ENTRIES = 2048     # MAXMAPENTRIES, the bound of the wrap-around _spec_buff%


class _Spec:
    __slots__ = ("buff", "counters", "last_id")

    def __init__(self) -> None:
        self.last_id = 0
        self.counters: dict[int, int] = {}
        self.buff: dict[tuple[int, int], str] = {}     # insertion-ordered


def _spec(ctx: Context) -> _Spec:
    st = ctx.extra.get("speculation")
    if st is None:
        st = ctx.extra["speculation"] = _Spec()
    return st


@builtin("speculation", LONG, (), needs_ctx=True, group=G_SPEC)
def speculation(ctx: Context) -> int:
    st = _spec(ctx)
    st.last_id = wrap(st.last_id + 1)
    return st.last_id


@builtin("speculate", VOID, (LONG, STRING), needs_ctx=True, group=G_SPEC)
def speculate(ctx: Context, id_: int, output: str) -> None:
    st = _spec(ctx)
    n = wrap(st.counters.get(id_, 0) + 1)
    st.counters[id_] = n
    buff = st.buff
    buff.pop((id_, n), None)
    buff[(id_, n)] = output
    if len(buff) > SPEC_MAX_ENTRIES:
        del buff[next(iter(buff))]


@builtin("discard", VOID, (LONG,), needs_ctx=True, group=G_SPEC)
def discard(ctx: Context, id_: int) -> None:
    st = _spec(ctx)
    for key in [k for k in st.buff if k[0] == id_]:
        del st.buff[key]


@builtin("commit", VOID, (LONG,), needs_ctx=True, group=G_SPEC)
def commit(ctx: Context, id_: int) -> None:
    st = _spec(ctx)
    keys = sorted((k for k in st.buff if k[0] == id_), key=lambda k: k[1])
    write = ctx.session.write
    for key in keys:
        write(st.buff.pop(key))
