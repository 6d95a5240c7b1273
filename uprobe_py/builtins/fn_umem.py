"""User-memory built-ins: the traced thread's strings and integers (uconversions.stp).

Input: the per-hit `Context`: `ctx.memory.read(addr, n)` (a pread on /proc/PID/mem:
a short result or an OSError is a fault; the tracee is never written) and
`ctx.session.maxstringlen`. With no traced thread (begin, end, timer probes)
`ctx.memory` is None and every read faults, which is what stap's kernel runtime
gives for an address that is not mapped in its own `stapio` process, so the same
script gives the same stap-shaped result everywhere: `user_string()` raises its
copy fault, `user_int()` returns 0, `user_int_warn()` warns.

Semantics and messages follow SystemTap 4.8's `uconversions.stp` (man 3stap
function::NAME), facts checked against the C that `stap -p3` generates:

- `user_string_n(addr, n)` copies at most clamp(n + 1, 1, MAXSTRINGLEN - 1) - 1
  bytes (so `user_string` gives at most MAXSTRINGLEN - 2), stopping at a NUL;
  a fault anywhere before the NUL is `user string copy fault -14 at 0xADDR
  [man error::fault]`, blamed on `user_string_n`'s definition (stap reports an
  error at the innermost tapset function running), the `err_msg` forms return
  their message instead and the `_warn` forms warn and return theirs.
- the integer readers: `user_TYPE_error` raises `read fault [man error::fault] at
  0xADDR`; `user_TYPE` returns 0 on a fault; `user_TYPE_warn` warns (each with
  its own wording) and returns 0.
- `user_string_utf16/utf32` convert to UTF-8 up to MAXSTRINGLEN bytes; an invalid
  character or a fault is an error at the character's address.

Strings are Python str with one character per byte (latin-1), as everywhere in
uprobe-py.
"""
from __future__ import annotations

from typing import Optional

from uprobe_py.builtins.fn_string import string_quoted, text_str_walk
from uprobe_py.builtins.registry import LONG, STRING, builtin
from uprobe_py.runtime.context import Context
from uprobe_py.runtime.errors import StapRuntimeError

G = "User Space Memory Functions"
MASK = (1 << 64) - 1
EFAULT = 14


# --- errors blamed where stap blames them ------------------------------------------

def tapset_token(name: str, arity: int) -> Optional[object]:
    """The token naming overload `name`/`arity` at its definition in stap's installed
    tapsets (where stap's run-time errors inside it point), None when not installed."""
    from uprobe_py.stap_tapsets import overload_token
    return overload_token(name, arity)


class TapsetError(StapRuntimeError):
    """A run-time error raised inside tapset function `fn` (arity `arity`): reported
    `near identifier 'fn' at TAPSET.stp:L:C` as stap reports it (Program.token_of reads
    `.token`); at the script's call when stap's tapsets are not installed."""

    def __init__(self, msg: str, fn: str, arity: int) -> None:
        super().__init__(msg)
        self.token = tapset_token(fn, arity)


# --- reading ------------------------------------------------------------------------

def read_user(ctx: Context, addr: int, n: int) -> bytes:
    """Up to n bytes at addr: the readable prefix (b"" when the first byte faults)."""
    mem = ctx.memory
    if mem is None or n <= 0:
        return b""
    addr &= MASK
    if addr >= 1 << 63:             # kernel half: never user memory (and off_t is signed)
        return b""
    try:
        return mem.read(addr, n)
    except (OSError, OverflowError, ValueError):
        return b""


def _s64(v: int) -> int:
    v &= MASK
    return v - (1 << 64) if v >> 63 else v


def strncpy_from_user(ctx: Context, addr: int, n: int) -> Optional[str]:
    """user_string_n()'s copy: None on a fault, else at most clamp(n+1, 1,
    MAXSTRINGLEN-1) - 1 bytes up to the first NUL."""
    length = min(max(_s64(n + 1), 1), ctx.session.maxstringlen - 1)
    data = read_user(ctx, addr, length)
    nul = data.find(b"\0")
    if nul >= 0:
        return data[:nul].decode("latin-1")
    if len(data) == length:
        return data[:length - 1].decode("latin-1")
    return None


def _copy_fault(addr: int) -> str:
    return "user string copy fault -%d at 0x%x [man error::fault]" % (EFAULT, addr & MASK)


# --- user_string and friends -----------------------------------------------------------

@builtin("user_string_n", STRING, (LONG, LONG), needs_ctx=True, group=G)
def user_string_n(ctx: Context, addr: int, n: int) -> str:
    s = strncpy_from_user(ctx, addr, n)
    if s is None:
        raise TapsetError(_copy_fault(addr), "user_string_n", 2)
    return s


@builtin("user_string", STRING, (LONG,), needs_ctx=True, group=G)
def user_string(ctx: Context, addr: int) -> str:
    return user_string_n(ctx, addr, ctx.session.maxstringlen)


@builtin("user_string_n", STRING, (LONG, LONG, STRING), needs_ctx=True, group=G)
def user_string_n_err(ctx: Context, addr: int, n: int, err_msg: str) -> str:
    s = strncpy_from_user(ctx, addr, n)
    return err_msg if s is None else s


builtin("user_string_n2", STRING, (LONG, LONG, STRING), needs_ctx=True, group=G)(user_string_n_err)


@builtin("user_string", STRING, (LONG, STRING), needs_ctx=True, group=G)
def user_string_err(ctx: Context, addr: int, err_msg: str) -> str:
    return user_string_n_err(ctx, addr, ctx.session.maxstringlen, err_msg)


builtin("user_string2", STRING, (LONG, STRING), needs_ctx=True, group=G)(user_string_err)


@builtin("user_string_nofault", STRING, (LONG,), needs_ctx=True, group=G)
def user_string_nofault(ctx: Context, addr: int) -> str:
    s = strncpy_from_user(ctx, addr, ctx.session.maxstringlen)
    return "" if s is None else s


@builtin("user_string_n_nofault", STRING, (LONG, LONG), needs_ctx=True, group=G)
def user_string_n_nofault(ctx: Context, addr: int, n: int) -> str:
    s = strncpy_from_user(ctx, addr, n)
    return "" if s is None else s


@builtin("user_string_n_warn", STRING, (LONG, LONG, STRING), needs_ctx=True, group=G)
def user_string_n_warn_msg(ctx: Context, addr: int, n: int, warn_msg: str) -> str:
    s = strncpy_from_user(ctx, addr, n)
    if s is None:
        ctx.session.warn(_copy_fault(addr))
        return warn_msg
    return s


builtin("user_string2_n_warn", STRING, (LONG, LONG, STRING), needs_ctx=True, group=G)(user_string_n_warn_msg)


@builtin("user_string_n_warn", STRING, (LONG, LONG), needs_ctx=True, group=G)
def user_string_n_warn(ctx: Context, addr: int, n: int) -> str:
    return user_string_n_warn_msg(ctx, addr, n, "")


@builtin("user_string_warn", STRING, (LONG, STRING), needs_ctx=True, group=G)
def user_string_warn_msg(ctx: Context, addr: int, warn_msg: str) -> str:
    return user_string_n_warn_msg(ctx, addr, ctx.session.maxstringlen, warn_msg)


builtin("user_string2_warn", STRING, (LONG, STRING), needs_ctx=True, group=G)(user_string_warn_msg)


@builtin("user_string_warn", STRING, (LONG,), needs_ctx=True, group=G)
def user_string_warn(ctx: Context, addr: int) -> str:
    return user_string_n_warn_msg(ctx, addr, ctx.session.maxstringlen, "")


def _hex(addr: int) -> str:
    return "0x%x" % (addr & MASK)


@builtin("user_string_quoted", STRING, (LONG,), needs_ctx=True, group=G)
def user_string_quoted(ctx: Context, addr: int) -> str:
    s = strncpy_from_user(ctx, addr, ctx.session.maxstringlen)
    return _hex(addr) if s is None else string_quoted(ctx, s)


@builtin("user_string_n_quoted", STRING, (LONG, LONG, LONG), needs_ctx=True, group=G)
def user_string_n_quoted3(ctx: Context, addr: int, inlen: int, outlen: int) -> str:
    s = strncpy_from_user(ctx, addr, inlen)
    if s is None:
        return _hex(addr)
    q = string_quoted(ctx, s)
    if len(q) > _s64(outlen - 2):
        # substr(q, 0, outlen-4): a negative length gives ""
        keep = _s64(outlen - 4)
        q = (q[:keep] if keep > 0 else "") + '"...'
        q = q[:ctx.session.maxstringlen - 1]
    return q


builtin("user_string_n2_quoted", STRING, (LONG, LONG, LONG), needs_ctx=True, group=G)(user_string_n_quoted3)


@builtin("user_string_n_quoted", STRING, (LONG, LONG), needs_ctx=True, group=G)
def user_string_n_quoted(ctx: Context, addr: int, n: int) -> str:
    return user_string_n_quoted3(ctx, addr, n, ctx.session.maxstringlen)


# --- UTF-16 / UTF-32 -------------------------------------------------------------------

def _utf8(c: int) -> Optional[bytes]:
    """_stp_convert_utf32's encoding; None for an invalid character."""
    if 0xD800 <= c <= 0xDFFF or c > 0x10FFFF:
        return None
    return chr(c).encode("utf-8")


def _wide_string(ctx: Context, addr: int, width: int, fn: str) -> str:
    maxlen = ctx.session.maxstringlen
    addr &= MASK
    # at most maxlen-1 characters fit: one read covers them all
    data = read_user(ctx, addr, (maxlen - 1) * width + (2 if width == 2 else 0))
    avail = len(data) // width
    units = [int.from_bytes(data[i * width:(i + 1) * width], "little") for i in range(avail)]
    out = bytearray()
    left = maxlen
    i = 0
    kind = "UTF-16" if width == 2 else "UTF-32"
    while left > 1:
        if i >= avail:
            raise TapsetError("user string copy fault at 0x%x [man error::fault]" % ((addr + i * width) & MASK), fn, 1)
        c = units[i]
        if c == 0:
            break
        if width == 2 and 0xD800 <= c <= 0xDBFF:
            if i + 1 >= avail:
                raise TapsetError("user string copy fault at 0x%x [man error::fault]"
                                  % ((addr + (i + 1) * width) & MASK), fn, 1)
            low = units[i + 1]
            if 0xDC00 <= low <= 0xDFFF:
                c = 0x10000 + ((c & 0x3FF) << 10) + (low & 0x3FF)
                i += 1
        enc = _utf8(c)
        if enc is None:
            raise TapsetError("invalid %s character U+%X at 0x%x" % (kind, c, (addr + i * width) & MASK), fn, 1)
        if left < len(enc) + 1:
            break
        out += enc
        left -= len(enc)
        i += 1
    return out.decode("latin-1")


@builtin("user_string_utf32", STRING, (LONG,), needs_ctx=True, group=G)
def user_string_utf32(ctx: Context, addr: int) -> str:
    return _wide_string(ctx, addr, 4, "user_string_utf32")


@builtin("user_string_utf16", STRING, (LONG,), needs_ctx=True, group=G)
def user_string_utf16(ctx: Context, addr: int) -> str:
    return _wide_string(ctx, addr, 2, "user_string_utf16")


def _wide_or(width: int, fn: str):  # type: ignore[no-untyped-def]
    def impl(ctx: Context, addr: int, err_msg: str) -> str:
        try:
            return _wide_string(ctx, addr, width, fn)
        except TapsetError:
            return err_msg
    return impl


def _wide_quoted(width: int, fn: str):  # type: ignore[no-untyped-def]
    def impl(ctx: Context, addr: int) -> str:
        try:
            return string_quoted(ctx, _wide_string(ctx, addr, width, fn))
        except TapsetError:
            return _hex(addr)
    return impl


for _w, _suffix in ((4, "utf32"), (2, "utf16")):
    _fn = "user_string_" + _suffix
    builtin(_fn, STRING, (LONG, STRING), needs_ctx=True, group=G)(_wide_or(_w, _fn))
    builtin("user_string2_" + _suffix, STRING, (LONG, STRING), needs_ctx=True, group=G)(_wide_or(_w, _fn))
    builtin("user_string_quoted_" + _suffix, STRING, (LONG,), needs_ctx=True, group=G)(_wide_quoted(_w, _fn))
del _w, _suffix, _fn


# --- integers ----------------------------------------------------------------------------

def _read_int(ctx: Context, addr: int, size: int, signed: bool) -> Optional[int]:
    data = read_user(ctx, addr, size)
    if len(data) != size:
        return None
    return int.from_bytes(data, "little", signed=signed)


# name: (size, signed, the wording of its _warn form or None)
_INTS = {
    "char": (1, True, "user char copy fault at %s [man error::fault]"),
    "short": (2, True, "user short copy fault %s [man error::fault]"),
    "ushort": (2, False, "user unsigned short copy fault %s [man error::fault]"),
    "int": (4, True, "user int copy fault %s [man error::fault]"),
    "long": (8, True, "user long copy fault %s [man error::fault]"),
    "ulong": (8, True, "user unsigned long copy fault %s [man error::fault]"),
    "int8": (1, True, None), "uint8": (1, False, None),
    "int16": (2, True, None), "uint16": (2, False, None),
    "int32": (4, True, None), "uint32": (4, False, None),
    "int64": (8, True, None), "uint64": (8, True, None),
}


def _make_int(name: str, size: int, signed: bool, warn: Optional[str]) -> None:
    # user_uint64_error is a script function calling user_int64_error: the fault is there
    err_fn = "user_int64_error" if name == "uint64" else "user_%s_error" % name

    def error_form(ctx: Context, addr: int) -> int:
        v = _read_int(ctx, addr, size, signed)
        if v is None:
            raise TapsetError("read fault [man error::fault] at 0x%x" % (addr & MASK), err_fn, 1)
        return v

    def plain(ctx: Context, addr: int) -> int:
        v = _read_int(ctx, addr, size, signed)
        return 0 if v is None else v

    builtin("user_%s_error" % name, LONG, (LONG,), needs_ctx=True, group=G)(error_form)
    builtin("user_" + name, LONG, (LONG,), needs_ctx=True, group=G)(plain)
    if warn is not None:
        def warn_form(ctx: Context, addr: int) -> int:
            v = _read_int(ctx, addr, size, signed)
            if v is None:
                ctx.session.warn(warn % _hex(addr))
                return 0
            return v
        builtin("user_%s_warn" % name, LONG, (LONG,), needs_ctx=True, group=G)(warn_form)


for _name, (_size, _signed, _warn) in _INTS.items():
    _make_int(_name, _size, _signed, _warn)
del _name, _size, _signed, _warn


# --- user_buffer_quoted ------------------------------------------------------------------------

def _buffer_quoted(ctx: Context, addr: int, inlen: int, outlen: int) -> Optional[str]:
    maxlen = ctx.session.maxstringlen
    outlen = min(max(_s64(outlen), 0), maxlen)
    if outlen == 0:
        return ""
    inlen32 = inlen & 0xFFFFFFFF
    inlen32 = inlen32 - (1 << 32) if inlen32 >> 31 else inlen32
    want = maxlen - 1 if inlen32 <= 0 or inlen32 > maxlen - 1 else inlen32
    # _stp_text_str(quoted, user, buffer): NULs are escaped, not ends; None on a fault
    data = read_user(ctx, addr, want).decode("latin-1")
    return text_str_walk(data, inlen32, outlen, True, maxlen, buffer=True)


@builtin("user_buffer_quoted", STRING, (LONG, LONG, LONG), needs_ctx=True, group=G)
def user_buffer_quoted(ctx: Context, addr: int, inlen: int, outlen: int) -> str:
    got = _buffer_quoted(ctx, addr, inlen, outlen)
    if got is None:
        size = min(max(_s64(outlen), 0), ctx.session.maxstringlen)
        return _hex(addr)[:size - 1]
    return got


@builtin("user_buffer_quoted_error", STRING, (LONG, LONG, LONG), needs_ctx=True, group=G)
def user_buffer_quoted_error(ctx: Context, addr: int, inlen: int, outlen: int) -> str:
    got = _buffer_quoted(ctx, addr, inlen, outlen)
    if got is None or got == "":
        raise TapsetError("Unable to access user space data at 0x%x" % (addr & MASK),
                          "user_buffer_quoted_error", 3)
    return got
