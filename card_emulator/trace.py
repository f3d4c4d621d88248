"""What the card tells observers about each exchange: enough to explain every decision it made."""

from __future__ import annotations

from dataclasses import dataclass

from apdu.notation import redact_command
from card_emulator.rules import AppName, PinName


@dataclass(frozen=True, slots=True)
class Exchange:
    """One command and the card's answer, with the card's reading of it.

    ``command`` holds the raw bytes (a PIN among them for VERIFY and CHANGE): print ``redacted()``.
    """

    command: bytes
    response: bytes
    sw: int
    app: AppName | None  # the application selected after the command
    fid: int | None  # the current EF after the command
    pin: PinName | None  # the PIN the command verified, changed or queried, or the one it lacked
    tries_left: int | None  # that PIN's remaining tries after the command
    action: str  # select_app, select_ef, read_binary, read_record, verify, query, change, sign, ...
    reason: str  # why the card refused, "" on success

    def redacted(self) -> str:
        return redact_command(self.command)

    def __repr__(self) -> str:
        return (
            f"Exchange({self.redacted()} -> {self.sw:04X}, app={self.app}, fid={self.fid}, "
            f"pin={self.pin}, tries_left={self.tries_left}, action={self.action!r})"
        )
