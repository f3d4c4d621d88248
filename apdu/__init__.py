"""ISO/IEC 7816-4 codec: command and response APDUs, status words, BER-TLV, APDU notation.

Standard library only; no state, no I/O. The card (``card_emulator``) builds on it.
"""

from __future__ import annotations

from .command import SENSITIVE_INS, ApduCase, ApduFormatError, CommandApdu, carries_secret
from .notation import format_command, format_response, parse_command, parse_hex, redact_command
from .response import ResponseApdu, respond
from .status import (
    StatusWord,
    bytes_available,
    bytes_available_sw,
    describe,
    is_success,
    is_warning,
    retries_left,
    verify_failed,
    wrong_le,
    wrong_le_sw,
)
from .tlv import (
    Tlv,
    TlvError,
    decode_all,
    decode_tlv,
    decode_with_offsets,
    encode_tlv,
    find,
    find_all,
    is_constructed,
    tag_bytes,
)

__all__ = [
    "SENSITIVE_INS",
    "ApduCase",
    "ApduFormatError",
    "CommandApdu",
    "ResponseApdu",
    "StatusWord",
    "Tlv",
    "TlvError",
    "bytes_available",
    "bytes_available_sw",
    "carries_secret",
    "decode_all",
    "decode_tlv",
    "decode_with_offsets",
    "describe",
    "encode_tlv",
    "find",
    "find_all",
    "format_command",
    "format_response",
    "is_constructed",
    "is_success",
    "is_warning",
    "parse_command",
    "parse_hex",
    "redact_command",
    "respond",
    "retries_left",
    "tag_bytes",
    "verify_failed",
    "wrong_le",
    "wrong_le_sw",
]
