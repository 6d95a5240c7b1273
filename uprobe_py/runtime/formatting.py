"""stap 4.8 printf/sprintf formatting: format parsing (pass 1/2) and fast per-call formatting.

What it does
  * `parse_format(fmt)` splits a format literal the way stap's parser does
    (print_format::string_to_components) and raises `FormatError` with stap's
    wording for bad formats.  `FormatSpec.arg_types` lists what each consumed
    argument must be ("long" or "string"; `*` width/precision args are "long"),
    so the semantic pass can report stap's "Wrong number of args to formatted
    print operator" and "type mismatch: expected long but found string".
  * `compile_format(fmt, read_memory=None, sprintf=False)` returns a function
    taking the argument tuple and returning the output text (latin-1 `str`).
    It follows what stap 4.8's translator emits (compiled printf, calling the
    runtime's number(), _stp_vsprint_char/_memory/_binary):
      - exactly one flag character may follow '%' (stap's parser reads one);
      - %u %x %X %o %p see the value as unsigned 64-bit; '+'/' ' only act on %d/%i;
      - %#x/%#X/%p always prefix 0x/0X and %#o always prefixes 0, even for 0;
      - the 0 flag pads numbers with zeros even when a precision is given;
      - %.0d of 0 prints "0" (number() always emits a digit);
      - `*` arguments are cut to a C int, then clamped to [0, buffer size]
        (a negative width does not left-justify, a negative precision is 0);
      - %c prints the low byte; %#c escapes it (\\n, \\t, ..., or \\ooo octal);
      - %s with the 0 flag, and %m/%M with it, append a NUL byte;
      - %b writes 1/2/4/8 little-endian bytes, padding with NULs to the width;
      - %m copies `precision` bytes (default 1) of target memory, %M hex-dumps
        them; a failed read raises "read fault [man error::fault] at 0x...".
    With sprintf=True the result is what a stap string holds: cut at the first
    NUL byte and to MAXSTRINGLEN-1 (511) bytes.  printf output is capped at
    STP_BUFFER_SIZE (8192) bytes per call, like the runtime's print buffer.
  * `stap_string_repr(s)` quotes a string the way stap's end-of-run dump of
    unread globals does.

What it does not do
  * %s stops at the end of the Python string, not at an embedded NUL (stap
    strings are C strings; the rest of uprobe-py never builds strings with NUL).
  * Widths/precisions are clamped to 8192 instead of to the room left in the
    buffer; the final truncation gives the same text, except in corner cases
    where a %b or %m straddles the end of a full buffer.
  * %m and %#m (kernel vs user memory in stap) both use `read_memory`.
  * The pre-1.3 `%p` compatibility mode (stap --compatible=1.2) is not modelled.

Sources: systemtap 4.8 runtime/vsprintf.c (installed under
/usr/share/systemtap/runtime), the C code `stap -p3` generates for printf,
`stap -p2` diagnostics, man stap(1) "printf" and the language reference 9.2.
"""
from __future__ import annotations

from typing import Callable, Optional

from .errors import StapRuntimeError

__all__ = ["FormatError", "Conversion", "FormatSpec", "parse_format", "compile_format",
           "stap_string_repr", "STP_BUFFER_SIZE", "MAXSTRINGLEN"]

MASK64 = (1 << 64) - 1
STP_BUFFER_SIZE = 8192  # runtime/transport/transport.h
MAXSTRINGLEN = 512      # runtime_defines.h, 64-bit hosts
_MAX_STRING = MAXSTRINGLEN - 1  # longest stap string value
_UNBOUNDED = 1 << 30

ERR_BAD_CONVERSION = "invalid or missing conversion specifier"
ERR_TRAILING = "trailing incomplete print format conversion"
ERR_NARGS = "Wrong number of args to formatted print operator"  # pass 2 wording

_CONVERSIONS = "bcsmMdiouxXp"
_FLAGS = "0+- #"

ReadMemory = Callable[[int, int], bytes]


class FormatError(ValueError):
    """An invalid printf format (stap reports these as parse errors in pass 1)."""


class Conversion:
    """One %-conversion: a single flag ('' if none), width/precision (None, int or '*')."""

    __slots__ = ("flag", "width", "precision", "conv")

    def __init__(self, flag: str, width, precision, conv: str) -> None:
        self.flag, self.width, self.precision, self.conv = flag, width, precision, conv

    def arg_types(self) -> list:
        types = ["long"] * ((self.width == "*") + (self.precision == "*"))
        types.append("string" if self.conv == "s" else "long")
        return types

    def __repr__(self) -> str:
        return "Conversion(%r, %r, %r, %r)" % (self.flag, self.width, self.precision, self.conv)


class FormatSpec:
    """A parsed format: `components` alternates literal `str` and `Conversion`."""

    __slots__ = ("fmt", "components", "arg_types")

    def __init__(self, fmt: str, components: list) -> None:
        self.fmt = fmt
        self.components = components
        self.arg_types = [t for c in components if isinstance(c, Conversion) for t in c.arg_types()]

    @property
    def nargs(self) -> int:
        return len(self.arg_types)


def _dimension(fmt: str, i: int):
    """A width or precision at fmt[i]: '*', a decimal number or nothing (None)."""
    if i < len(fmt) and fmt[i] == "*":
        return "*", i + 1
    j = i
    while j < len(fmt) and "0" <= fmt[j] <= "9":
        j += 1
    return (int(fmt[i:j]) if j > i else None), j


def parse_format(fmt: str) -> FormatSpec:
    """Split a printf format literal (with escapes already decoded) like stap's parser."""
    comps: list = []
    lit: list = []
    n = len(fmt)
    i = 0
    while i < n:
        ch = fmt[i]
        if ch != "%":
            lit.append(ch)
            i += 1
            continue
        if i + 1 == n:
            # stap 4.8 rejects a lone trailing '%' ("abc%" -> pass 1 error)
            raise FormatError(ERR_BAD_CONVERSION)
        if fmt[i + 1] == "%":
            lit.append("%")
            i += 2
            continue
        i += 1
        flag = width = prec = None
        if fmt[i] in _FLAGS:  # only one flag character is accepted
            flag = fmt[i]
            i += 1
        width, i = _dimension(fmt, i)
        if i < n and fmt[i] == ".":
            prec, i = _dimension(fmt, i + 1)
        if i < n and fmt[i] == "l":
            i += 1
        if i == n:
            # stap drops an incomplete conversion that set nothing ("%." or "%l")
            if flag is None and width is None and prec is None:
                break
            raise FormatError(ERR_TRAILING)
        conv = fmt[i]
        if conv not in _CONVERSIONS:
            raise FormatError(ERR_BAD_CONVERSION)
        i += 1
        if lit:
            comps.append("".join(lit))
            lit = []
        comps.append(Conversion(flag or "", width, prec, conv))
    if lit:
        comps.append("".join(lit))
    return FormatSpec(fmt, comps)


# ---------------------------------------------------------------- run-time helpers

def _dim(v: int) -> int:
    """A `*` width/precision: C int cast, then clamp_t(int, v, 0, room)."""
    v &= 0xFFFFFFFF
    if v >= 0x80000000:
        return 0
    return v if v < STP_BUFFER_SIZE else STP_BUFFER_SIZE


def _clamp(v) -> int:
    return v if v < STP_BUFFER_SIZE else STP_BUFFER_SIZE


def _pad(body: str, width, left: bool, fill: str = " ") -> str:
    if width is None or width <= len(body):
        return body
    return body.ljust(width, fill) if left else body.rjust(width, fill)


_C_ESCAPES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v",
              39: "\\'", 92: "\\\\"}
# %#c: printable ASCII stays, C escapes where C has one, else backslash + 3 octal digits
_CHAR_ESC = tuple(_C_ESCAPES.get(b, chr(b) if 0x20 <= b < 0x7F else "\\%03o" % b)
                  for b in range(256))


def _char_special(v: int, width, flag: str) -> str:
    return _pad(_CHAR_ESC[v & 0xFF], width, flag == "-")


def _octal_special(v: int, width, prec) -> str:
    # number() with SPECIAL in base 8: always one '0' before the (precision-padded) digits
    digits = "%o" % (v & MASK64)
    if prec is not None and len(digits) < prec:
        digits = digits.rjust(prec, "0")
    return _pad("0" + digits, width, False)


def _binary(v: int, width, prec, flag: str, room: int = _UNBOUNDED) -> str:
    # _stp_vsprint_binary: precision 1/2/4/8 picks the size; otherwise the width
    # does (if it is 1/2/4/8); the default is 8.  Extra width is NUL padding.
    # The value is left out when it does not fit in the room left.
    if prec not in (1, 2, 4, 8):
        prec = None
    if width is None:
        width = prec = prec or 8
    elif prec is None:
        prec = width if width in (1, 2, 4, 8) else 8
    pad = "\0" * (width - prec) if width > prec else ""
    pre, post = ("", pad) if flag == "-" else (pad[:room], "")
    if len(pre) + prec > room:
        return pre + post
    return pre + (v & ((1 << (8 * prec)) - 1)).to_bytes(prec, "little").decode("latin-1") + post


def _fault(addr: int) -> StapRuntimeError:
    # STAP_MSG_LOC2C_01 "read fault [man error::fault] at 0x%lx", address of the failing byte
    return StapRuntimeError("read fault [man error::fault] at 0x%x" % (addr & MASK64))


def _read(read_memory: Optional[ReadMemory], addr: int, n: int) -> bytes:
    addr &= MASK64
    if read_memory is None:
        raise _fault(addr)
    try:
        data = bytes(read_memory(addr, n))
    except Exception:
        data = b""
        for k in range(n):  # locate the first unreadable byte, as the byte-wise stap loop would
            try:
                b = bytes(read_memory(addr + k, 1))
            except Exception:
                b = b""
            if len(b) != 1:
                raise _fault(addr + k) from None
            data += b
    if len(data) < n:
        raise _fault(addr + len(data))
    return data[:n]


def _memory(read_memory, v: int, width, prec, flag: str, hexdump: bool,
            room: int = _UNBOUNDED) -> str:
    # _stp_vsprint_memory for 'm'/'M': only the bytes that fit are read
    n = prec if prec else 1  # precision 0 or absent reads one byte
    shown = 2 * n if hexdump else n
    pad = " " * (width - shown) if width is not None and width > shown else ""
    pre, post = ("", pad) if flag == "-" else (pad[:room], "")
    avail = room - len(pre)
    k = min(n, avail // 2 if hexdump else avail)
    data = _read(read_memory, v, k) if k > 0 else b""
    body = pre + (data.hex() if hexdump else data.decode("latin-1")) + post
    return body + "\0" if flag == "0" else body


def _string_zero(s: str, width, prec) -> str:
    # %0s: padded with spaces like %s, then _stp_vsprint_memory appends a NUL byte
    if prec is not None:
        s = s[:prec]
    return _pad(s, width, False) + "\0"


# ---------------------------------------------------------------- compilation

def _py_spec(c: Conversion, w: str, p: str) -> Optional[str]:
    """The Python %-spec equivalent to `c`, or None if a helper must format it."""
    flag, conv = c.flag, c.conv
    if conv in "di":
        return "%" + flag.replace("#", "") + w + p + "d"
    if conv in "uxXo":
        if conv == "o" and flag == "#":
            return None
        return "%" + ("" if flag in "+ " else flag) + w + p + ("d" if conv == "u" else conv)
    if conv == "p":
        return "%#" + ("" if flag in "+ #" else flag) + w + p + "x"
    if conv == "c":
        return None if flag == "#" else "%" + ("-" if flag == "-" else "") + w + "c"
    if conv == "s":
        return None if flag == "0" else "%" + ("-" if flag == "-" else "") + w + p + "s"
    return None


def _piece(c: Conversion, v, w, p, rm, room: int) -> str:
    """One conversion with already clamped width/precision (slow path)."""
    py = _py_spec(c, str(w) if w else "", "" if p is None else ".%d" % p)
    if py is not None:
        if c.conv in "uxXop":
            v &= MASK64
        elif c.conv == "c":
            v &= 255
        return py % v
    cv = c.conv
    if cv == "c":
        return _char_special(v, w, c.flag)
    if cv == "o":
        return _octal_special(v, w, p)
    if cv == "s":
        return _string_zero(v, w, p)
    if cv == "b":
        return _binary(v, w, p, c.flag, room)
    return _memory(rm, v, w, p, c.flag, cv == "M", room)


def _dims(c: Conversion, args: tuple, ai: int):
    w, p = c.width, c.precision
    if w == "*":
        w = _dim(args[ai])
        ai += 1
    elif w is not None:
        w = _clamp(w)
    if p == "*":
        p = _dim(args[ai])
        ai += 1
    elif p is not None:
        p = _clamp(p)
    return w, p, ai


def _total_size(spec: FormatSpec, args: tuple) -> int:
    """The byte count the compiled printf reserves (number_size() & co.)."""
    total = ai = 0
    for c in spec.components:
        if isinstance(c, str):
            total += len(c)
            continue
        w, p, ai = _dims(c, args, ai)
        if c.conv in "mM":
            n = (p or 1) * (2 if c.conv == "M" else 1)
            total += max(n, w or 0) + (c.flag == "0")
        elif c.conv == "b":
            size = p if p in (1, 2, 4, 8) else w if w in (1, 2, 4, 8) else 8
            total += max(size, w or 0)
        else:
            total += len(_piece(c, args[ai], w, p, None, _UNBOUNDED))
        ai += 1
    return total


def _render_bounded(spec: FormatSpec, args: tuple, size: int, rm) -> str:
    """Write into a `size`-byte buffer the way the compiled printf does: each
    width/precision is clamped to the room left, output past the end is lost."""
    out = []
    used = ai = 0
    for c in spec.components:
        room = size - used
        if room <= 0:
            break
        if isinstance(c, str):
            piece = c
        else:
            w, p, ai = _dims(c, args, ai)
            piece = _piece(c, args[ai], None if w is None else min(w, room),
                           None if p is None else min(p, room), rm, room)
            ai += 1
        piece = piece[:room]
        out.append(piece)
        used += len(piece)
    return "".join(out)


def _max_len(spec: FormatSpec, max_string: int = _MAX_STRING) -> int:
    """Upper bound of the output length (more than STP_BUFFER_SIZE if unbounded)."""
    total = 0
    for c in spec.components:
        if isinstance(c, str):
            total += len(c)
            continue
        if c.width == "*" or c.precision == "*":
            return STP_BUFFER_SIZE + 1
        w, p = _clamp(c.width or 0), _clamp(c.precision or 0)
        if c.conv == "s":
            body = min(p, max_string) if c.precision is not None else max_string
        elif c.conv in "mM":
            body = max(p, 1) * (2 if c.conv == "M" else 1)
        else:
            body = p + 24
        total += max(w, body) + 1
    return total


def compile_format(fmt: str, read_memory: Optional[ReadMemory] = None, *,
                   sprintf: bool = False, maxstringlen: int = MAXSTRINGLEN) -> Callable[[tuple], str]:
    """Compile `fmt` into `f(args_tuple) -> str`.

    `read_memory(addr, n) -> bytes` serves %m/%M (a short read or an exception
    is a read fault).  `sprintf=True` gives the value sprintf() returns (cut at
    the first NUL and to 511 bytes); otherwise the bytes printf() writes.
    Raises FormatError for an invalid format.
    """
    spec = parse_format(fmt)
    max_string = maxstringlen - 1           # -D MAXSTRINGLEN sizes sprintf's buffer
    if not spec.arg_types:
        const = "".join(spec.components)
        if sprintf:
            const = const[:max_string]
        return lambda a=(): const
    pyfmt: list = []
    exprs: list = []
    ns: dict = {"_dim": _dim, "_rm": read_memory, "_char_special": _char_special,
                "_octal_special": _octal_special, "_binary": _binary,
                "_memory": _memory, "_string_zero": _string_zero,
                "StapRuntimeError": StapRuntimeError}
    may_nul = has_mem = False
    plain = True  # every argument goes straight through, in order
    ai = 0
    for c in spec.components:
        if isinstance(c, str):
            pyfmt.append(c.replace("%", "%%"))
            continue
        w = p = ""
        wx = px = "None"
        if c.width == "*":
            wx = "_dim(a[%d])" % ai
            w = "*"
            ai += 1
        elif c.width is not None:
            wx = str(_clamp(c.width))
            w = wx if c.width else ""
        if c.precision == "*":
            px = "_dim(a[%d])" % ai
            p = ".*"
            ai += 1
        elif c.precision is not None:
            px = str(_clamp(c.precision))
            p = "." + px
        arg = "a[%d]" % ai
        ai += 1
        py = _py_spec(c, w, p)
        cv, fl = c.conv, c.flag
        if py is not None:
            if w == "*":
                exprs.append(wx)
            if p == ".*" and cv != "c":  # %c ignores (but consumes) a precision
                exprs.append(px)
            if cv in "uxXop":
                exprs.append(arg + " & %d" % MASK64)
            elif cv == "c":
                exprs.append(arg + " & 255")
                may_nul = True
            else:
                exprs.append(arg)
            plain = plain and cv in "dis" and w != "*" and p != ".*"
            pyfmt.append(py)
            continue
        plain = False
        pyfmt.append("%s")
        if cv == "c":
            exprs.append("_char_special(%s, %s, %r)" % (arg, wx, fl))
        elif cv == "o":
            exprs.append("_octal_special(%s, %s, %s)" % (arg, wx, px))
        elif cv == "s":
            may_nul = True
            exprs.append("_string_zero(%s, %s, %s)" % (arg, wx, px))
        elif cv == "b":
            may_nul = True
            exprs.append("_binary(%s, %s, %s, %r)" % (arg, wx, px, fl))
        else:  # m / M
            may_nul = may_nul or cv == "m" or fl == "0"
            has_mem = True
            exprs.append("_memory(_rm, %s, %s, %s, %r, %r)" % (arg, wx, px, fl, cv == "M"))
    ns["FMT"] = "".join(pyfmt)
    # printf: the compiled printf reserves at most STP_BUFFER_SIZE bytes.  sprintf:
    # the result buffer is MAXSTRINGLEN bytes, the last one always the NUL.
    limit = max_string if sprintf else STP_BUFFER_SIZE
    size = maxstringlen if sprintf else STP_BUFFER_SIZE
    may_overflow = _max_len(spec, max_string) > limit
    need_nul = sprintf and may_nul
    if plain and not may_overflow and not need_nul:
        return ns["FMT"].__mod__  # fastest: the argument tuple goes straight to str %

    def slow(a: tuple) -> str:
        if sprintf:
            return _render_bounded(spec, a, size, read_memory)[:max_string].split("\0", 1)[0]
        return _render_bounded(spec, a, min(size, _total_size(spec, a)), read_memory)

    # A %b precision that is not 1/2/4/8 is clamped to the room left in the
    # buffer, which may turn it into a valid size: only the slow path gets that right.
    if any(isinstance(c, Conversion) and c.conv == "b" and c.precision not in (None, 1, 2, 4, 8)
           for c in spec.components):
        return slow
    ns["_slow"] = slow
    body = "r = FMT %% (%s,)" % ", ".join(exprs)
    src = ["def _format(a):"]
    if may_overflow and has_mem:  # a read past the end of the buffer is never made
        src += ["    try:", "        " + body, "    except StapRuntimeError:",
                "        return _slow(a)"]
    else:
        src.append("    " + body)
    if may_overflow:
        src.append("    if len(r) > %d: return _slow(a)" % limit)
    if need_nul:
        src += ["    k = r.find('\\0')", "    if k >= 0: r = r[:k]"]
    src.append("    return r")
    exec("\n".join(src), ns)  # noqa: S102 - code built only from the parsed format
    fn = ns["_format"]
    fn.__doc__ = "stap %s(%r)" % ("sprintf" if sprintf else "printf", fmt)
    return fn


def stap_string_repr(s: str) -> str:
    """How stap 4.8 shows a string value in its end-of-run dump of unread globals.

    The translator prints them with the format `name="%#s"`; the runtime's %s
    ignores '#' (_stp_vsprint_memory only looks at '-' and '0'), so the value is
    written verbatim between double quotes: no escaping of '"', '\\\\' or '\\n'.
    (Checked in the C code `stap -p3` generates for an unread string global.)
    """
    return '"' + s + '"'
