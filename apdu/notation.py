"""Compact text forms of APDUs for the CLI and for transcripts.

Command notation (after the one Yubico's ykman uses)::

    CLAINSP1P2[:DATA][/LE][+ext]

* ``CLAINSP1P2``: the four header bytes, 8 hex digits, e.g. ``00A4020C``.
* ``:DATA``: the data field in hex, present when there is one (Lc is implied).
* ``/LE``: Ne, the number of bytes expected, in **hex**, at least two digits: ``/04`` = 4,
  ``/FF`` = 255, ``/100`` = 256 (the short Le byte ``00``), ``/10000`` = 65536.
* ``+ext``: the APDU uses the extended length form.

Examples: ``00A4020C:0018``, ``00B00000/04``, ``802A0080:3031…20/100``, ``00B00000/0100+ext``.
Responses are written ``DATA=SW`` (``=9000`` without data). PINs never appear: the data field of
VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER and CHANGE KEY is redacted by default.
"""

from __future__ import annotations

import string

from .command import ApduFormatError, CommandApdu, carries_secret
from .response import ResponseApdu

__all__ = [
    "format_command",
    "format_response",
    "parse_command",
    "parse_hex",
    "redact_command",
]

_SEPARATORS = frozenset(" \t\r\n:")
_HEX = frozenset(string.hexdigits)
_EXT = "+ext"


def _redacted(n: int) -> str:
    return f"<{n} bytes redacted>"


def parse_hex(text: str) -> bytes:
    """Bytes from hex written with spaces, colons or no separators (``"00 A4:04 0c"``)."""
    digits: list[str] = []
    for i, ch in enumerate(text):
        if ch in _SEPARATORS:
            continue
        if ch not in _HEX:
            # The text is not echoed: it may be a VERIFY with a PIN in it.
            raise ValueError(f"not a hex digit at position {i} of a {len(text)}-character argument")
        digits.append(ch)
    if len(digits) % 2:
        raise ValueError(f"odd number of hex digits ({len(digits)}) in an argument")
    return bytes.fromhex("".join(digits))


def format_command(c: CommandApdu, *, redact: bool = True) -> str:
    """``c`` in the compact notation; with ``redact`` a PIN-carrying data field is hidden."""
    out = f"{c.cla:02X}{c.ins:02X}{c.p1:02X}{c.p2:02X}"
    if c.data:
        shown = _redacted(len(c.data)) if redact and c.carries_secret else c.data.hex().upper()
        out += ":" + shown
    if c.le is not None:
        out += f"/{c.le:02X}"
    if c.extended:
        out += _EXT
    return out


def parse_command(text: str) -> CommandApdu:
    """A command from the compact notation or from plain hex of the whole APDU.

    The text is notation when it starts with 8 hex digits followed by ``:`` or ``/``, or it ends
    in ``+ext``; otherwise it is read as hex (``parse_hex``) and decoded with ``CommandApdu.parse``.
    Raises ValueError (ApduFormatError for malformed plain hex) with a one-line message.
    """
    s = "".join(text.split())
    extended = s.lower().endswith(_EXT)
    if extended:
        s = s[: -len(_EXT)]
    notation = len(s) > 8 and s[8] in ":/" and all(ch in _HEX for ch in s[:8])
    if not extended and not notation:
        raw = parse_hex(text)
        try:
            return CommandApdu.parse(raw)
        except ApduFormatError as exc:
            raise ApduFormatError(f"{exc} in {text!r}", exc.sw) from None
    try:
        header = parse_hex(s[:8])
        if len(header) != 4:
            raise ValueError("the header needs 8 hex digits (CLA INS P1 P2)")
        rest = s[8:]
        data_text, _, le_text = rest.partition("/")
        if data_text and not data_text.startswith(":"):
            raise ValueError(f"expected ':' or '/' after the header, got {data_text[0]!r}")
        data = parse_hex(data_text[1:]) if data_text else b""
        if ":" in rest and not data:
            raise ValueError("':' with an empty data field")
        le: int | None = None
        if "/" in rest:
            if not le_text or any(ch not in _HEX for ch in le_text):
                raise ValueError(f"Le must be hex digits, got {le_text!r}")
            le = int(le_text, 16)
        return CommandApdu(header[0], header[1], header[2], header[3], data, le, extended)
    except ValueError as exc:
        raise ValueError(f"bad APDU notation {text!r}: {exc}") from None


def format_response(r: ResponseApdu) -> str:
    """``DATA=SW`` in hex, e.g. ``=9000`` or ``0102=9000``."""
    return f"{r.data.hex().upper()}={r.sw:04X}"


def redact_command(raw: bytes) -> str:
    """Hex of a command APDU with any PIN replaced by ``<N bytes redacted>``.

    Applies to VERIFY (INS 20), CHANGE REFERENCE DATA (24), RESET RETRY COUNTER (2C) and
    CHANGE KEY (80 32). A malformed APDU with such an INS has everything after the header hidden.
    """
    raw = bytes(raw)
    if len(raw) < 4 or not carries_secret(raw[0], raw[1]):
        return raw.hex().upper()
    try:
        c = CommandApdu.parse(raw)
    except ApduFormatError:
        body = raw[4:]
        return raw[:4].hex().upper() + (_redacted(len(body)) if body else "")
    if not c.data:
        return raw.hex().upper()
    start = 7 if c.extended else 5
    end = start + len(c.data)
    return raw[:start].hex().upper() + _redacted(len(c.data)) + raw[end:].hex().upper()
