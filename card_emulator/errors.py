"""Errors of the card library.

``CardError`` carries a status word and never leaves ``Card.transmit`` (it becomes the answer);
the others are for the library's callers: a card file that cannot be used, a wrong issuer request.
"""

from __future__ import annotations


class CardError(Exception):
    """A command the card refuses: becomes the status word ``sw`` at ``Card.transmit``."""

    def __init__(self, sw: int, reason: str = "") -> None:
        super().__init__(f"{sw:04X} {reason}".strip())
        self.sw = sw
        self.reason = reason


class EmulatorError(Exception):
    """Base of every error the library raises to its callers (the CLI prints it in one line)."""


class CardFileError(EmulatorError):
    """A card file that cannot be opened: missing, not a card, damaged. It is never modified."""


class CardInUseError(CardFileError):
    """Another process has the card file open."""


class CardStorageError(EmulatorError):
    """The card file could not be written during use (disk full, made read-only, removed).

    ``Card.transmit`` answers the command ``6581`` (memory failure, ISO 7816-4 §5.6) instead.
    """


class IssuerError(EmulatorError):
    """An issuer operation refused: bad value format, unknown PIN, no such certificate."""
