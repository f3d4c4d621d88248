"""Status words (SW1-SW2) of ISO/IEC 7816-4 and JICSAP, with English meanings.

Names follow the ISO phrases; card-interface.md §9 lists which ones the My Number Card answers.
The parametrised families (61xx, 63Cx, 6Cxx) are not members: build and read them with the
helpers below.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "StatusWord",
    "bytes_available",
    "bytes_available_sw",
    "describe",
    "is_success",
    "is_warning",
    "retries_left",
    "verify_failed",
    "wrong_le",
    "wrong_le_sw",
]


class StatusWord(IntEnum):
    """Fixed status words. Values are the 16-bit SW1-SW2."""

    NO_ERROR = 0x9000
    END_OF_FILE_WARNING = 0x6282
    VERIFICATION_FAILED = 0x6300
    EXECUTION_ERROR = 0x6400
    MEMORY_FAILURE = 0x6581
    SECURITY_ENVIRONMENT_FAULTY = 0x66F1
    WRONG_LENGTH = 0x6700
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURE_MESSAGING_NOT_SUPPORTED = 0x6882
    LAST_COMMAND_EXPECTED = 0x6883
    COMMAND_CHAINING_NOT_SUPPORTED = 0x6884
    COMMAND_INCOMPATIBLE = 0x6981
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED_NO_EF = 0x6986
    SM_DATA_MISSING = 0x6987
    SM_DATA_INCORRECT = 0x6988
    SM_SESSION_BROKEN = 0x69FC
    INCORRECT_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    NOT_ENOUGH_MEMORY = 0x6A84
    INCORRECT_P1P2 = 0x6A86
    LC_INCONSISTENT_WITH_P1P2 = 0x6A87
    REFERENCE_DATA_NOT_FOUND = 0x6A88
    WRONG_PARAMETERS_OFFSET = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00


# ISO/IEC 7816-4 §5.6 tables; JICSAP wording where the card differs (card-interface.md §9).
_MEANINGS: dict[StatusWord, str] = {
    StatusWord.NO_ERROR: "normal end",
    StatusWord.END_OF_FILE_WARNING: "warning: end of file or record reached before Le bytes",
    StatusWord.VERIFICATION_FAILED: "verification failed (no retry counter reported)",
    StatusWord.EXECUTION_ERROR: "execution error, non-volatile memory unchanged",
    StatusWord.MEMORY_FAILURE: "memory failure",
    StatusWord.SECURITY_ENVIRONMENT_FAULTY: "security environment not set or faulty",
    StatusWord.WRONG_LENGTH: "wrong length (Lc or Le)",
    StatusWord.LOGICAL_CHANNEL_NOT_SUPPORTED: "logical channel not supported",
    StatusWord.SECURE_MESSAGING_NOT_SUPPORTED: "secure messaging not supported",
    StatusWord.LAST_COMMAND_EXPECTED: "last command of the chain expected",
    StatusWord.COMMAND_CHAINING_NOT_SUPPORTED: "command chaining not supported",
    StatusWord.COMMAND_INCOMPATIBLE: "command incompatible with file structure",
    StatusWord.SECURITY_STATUS_NOT_SATISFIED: "security status not satisfied",
    StatusWord.AUTH_METHOD_BLOCKED: "authentication method blocked",
    StatusWord.REFERENCE_DATA_NOT_USABLE: "reference data not usable (JICSAP: key locked)",
    StatusWord.CONDITIONS_NOT_SATISFIED: "conditions of use not satisfied",
    StatusWord.COMMAND_NOT_ALLOWED_NO_EF: "command not allowed (no current EF)",
    StatusWord.SM_DATA_MISSING: "expected secure messaging data objects missing",
    StatusWord.SM_DATA_INCORRECT: "incorrect secure messaging data objects",
    StatusWord.SM_SESSION_BROKEN: "secure messaging session broken (card-proprietary)",
    StatusWord.INCORRECT_DATA: "incorrect parameters in the data field",
    StatusWord.FUNCTION_NOT_SUPPORTED: "function not supported",
    StatusWord.FILE_NOT_FOUND: "file or application not found",
    StatusWord.RECORD_NOT_FOUND: "record not found",
    StatusWord.NOT_ENOUGH_MEMORY: "not enough memory space in the file",
    StatusWord.INCORRECT_P1P2: "incorrect parameters P1-P2",
    StatusWord.LC_INCONSISTENT_WITH_P1P2: "Lc inconsistent with P1-P2",
    StatusWord.REFERENCE_DATA_NOT_FOUND: "referenced data or reference data not found",
    StatusWord.WRONG_PARAMETERS_OFFSET: "wrong parameters P1-P2 (offset outside the EF)",
    StatusWord.INS_NOT_SUPPORTED: "instruction code not supported or invalid",
    StatusWord.CLA_NOT_SUPPORTED: "class not supported",
    StatusWord.NO_PRECISE_DIAGNOSIS: "no precise diagnosis",
}

UNKNOWN = "unknown status word"


def _check_sw(sw: int) -> None:
    if not 0 <= sw <= 0xFFFF:
        raise ValueError(f"status word out of range 0..0xFFFF: {sw!r}")


def verify_failed(tries_left: int) -> int:
    """``63Cx``: verification failed, ``tries_left`` (0..15) tries remain (ISO 7816-4 §11.5.6)."""
    if not 0 <= tries_left <= 15:
        raise ValueError(f"tries_left must be 0..15, got {tries_left}")
    return 0x63C0 | tries_left


def retries_left(sw: int) -> int | None:
    """The x of ``63Cx``, or None for any other status word."""
    return sw & 0x0F if sw & 0xFFF0 == 0x63C0 else None


def bytes_available(sw: int) -> int | None:
    """The byte count of ``61xx`` (``6100`` means 256), or None for any other status word."""
    return ((sw & 0xFF) or 256) if sw >> 8 == 0x61 else None


def wrong_le(sw: int) -> int | None:
    """The exact Le of ``6Cxx`` (``6C00`` means 256), or None for any other status word."""
    return ((sw & 0xFF) or 256) if sw >> 8 == 0x6C else None


def bytes_available_sw(count: int) -> int:
    """``61xx`` for ``count`` (1..256) response bytes still available (256 → ``6100``)."""
    if not 1 <= count <= 256:
        raise ValueError(f"count must be 1..256, got {count}")
    return 0x6100 | (count & 0xFF)


def wrong_le_sw(exact_le: int) -> int:
    """``6Cxx`` telling the terminal the exact Le (1..256; 256 → ``6C00``)."""
    if not 1 <= exact_le <= 256:
        raise ValueError(f"exact_le must be 1..256, got {exact_le}")
    return 0x6C00 | (exact_le & 0xFF)


def is_success(sw: int) -> bool:
    """``9000`` or ``61xx`` (normal processing, ISO 7816-4 §5.6)."""
    return sw == 0x9000 or sw >> 8 == 0x61


def is_warning(sw: int) -> bool:
    """``62xx`` or ``63xx`` (warning processing, ISO 7816-4 §5.6)."""
    return sw >> 8 in (0x62, 0x63)


def describe(sw: int) -> str:
    """English meaning of any status word 0..0xFFFF; ``"unknown status word"`` if it has none."""
    _check_sw(sw)
    try:
        return _MEANINGS[StatusWord(sw)]
    except ValueError:
        pass
    if (n := bytes_available(sw)) is not None:
        return f"normal end, {n} response bytes still available (GET RESPONSE)"
    if (n := retries_left(sw)) is not None:
        if n == 0:
            return "verification failed, no tries left (reference data now blocked)"
        return f"verification failed, {n} {'try' if n == 1 else 'tries'} left"
    if (n := wrong_le(sw)) is not None:
        return f"wrong Le field, exact length is {n}"
    return UNKNOWN
