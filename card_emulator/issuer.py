"""What a municipal window or a kiosk does to a card, outside the APDUs a user's reader can send.

No public client resets a PIN by APDU; the terminals that do are not public (card-interface.md §10.3).
This is the clean API the teaching layer (card_emulator.teaching.reset) models the channels on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any

from cryptography import x509

from card_emulator.errors import IssuerError
from card_emulator.memory import CardMemory
from card_emulator.pin import PinStatus
from card_emulator.rules import PIN_SPECS, AppName, FileKind, PinName

CERTIFICATE_FILES: dict[str, tuple[AppName, int]] = {
    "signing": (AppName.JPKI, 0x0001),
    "signing_ca": (AppName.JPKI, 0x0002),
    "user_auth": (AppName.JPKI, 0x000A),
    "user_auth_ca": (AppName.JPKI, 0x000B),
}


@dataclass(frozen=True, slots=True)
class Holder:
    """The holder's data as the issuer knows it (a synthetic person on every generated card)."""

    name: str
    address: str
    birth_date: date
    sex: str
    my_number: str
    resident_code: str
    card_expiry: date
    security_code: str
    details: dict[str, Any]  # everything else the card was issued with (romaji, codes, ...)

    @classmethod
    def from_json(cls, text: str) -> Holder:
        """The holder from the JSON the card file keeps in its metadata (``meta["holder"]``):
        the named fields, dates as ISO 8601; every other key goes to ``details``."""
        data = json.loads(text)
        core = {
            "name": data.pop("name"),
            "address": data.pop("address"),
            "birth_date": date.fromisoformat(data.pop("birth_date")),
            "sex": data.pop("sex"),
            "my_number": data.pop("my_number"),
            "resident_code": data.pop("resident_code"),
            "card_expiry": date.fromisoformat(data.pop("card_expiry")),
            "security_code": data.pop("security_code"),
        }
        return cls(**core, details=data)


class Issuer:
    """The issuer's view of one card (``card.issuer``): its PINs' counters, holder, certificates
    and metadata, and the window's and kiosk's operations (``reset_pin``). None of it is reachable
    by APDU. IssuerError (card_emulator.errors) for a PIN the card does not have or a value of the
    wrong format."""

    def __init__(
        self, memory: CardMemory, on_reset: Callable[[], None], lock: AbstractContextManager[Any]
    ) -> None:
        self._memory = memory
        self._on_reset = on_reset
        self._lock = lock  # the card's: an issuer write never interleaves with a VERIFY

    def pins(self) -> list[PinName]:
        """The PINs (key references) this card holds, in PinName order."""
        return [pin for pin in PinName if self._memory.has_pin(pin)]

    def pin_status(self, pin: PinName) -> PinStatus:
        """Tries left and the maximum of ``pin``, read from the card's memory without a VERIFY
        (the counter, pin-rules.md §2); IssuerError if the card has no such PIN."""
        self._require(pin)
        record = self._memory.pin(pin)
        return PinStatus(pin, record.remaining, record.max_tries)

    def reset_pin(self, pin: PinName, new_value: str) -> None:
        """再設定・初期化: a new value and full tries, which also lifts a lock (pin-rules.md §3).

        The card sits in the issuer's terminal for it, so the session starts afresh afterwards.
        """
        self._require(pin)
        spec = PIN_SPECS[pin]
        if not spec.format.accepts(new_value):
            raise IssuerError(f"the new {spec.name_en} must be {spec.format.description_en}")
        with self._lock:
            self._memory.set_pin_value(pin, new_value)
            self._on_reset()

    def holder(self) -> Holder:
        """The synthetic holder the card was issued to (its card-face data and numbers)."""
        return Holder.from_json(self._memory.meta["holder"])

    @property
    def has_signing_certificate(self) -> bool:
        """Whether the signing certificate (EF 0001) was issued: not on an under-15 card."""
        return self._memory.has_file(AppName.JPKI, 0x0001, FileKind.TRANSPARENT)

    def certificates(self) -> dict[str, x509.Certificate]:
        """The JPKI certificates on the card by label (``signing``, ``signing_ca``,
        ``user_auth``, ``user_auth_ca``), parsed; a label is missing when its EF is."""
        result = {}
        for label, (app, fid) in CERTIFICATE_FILES.items():
            if self._memory.has_file(app, fid, FileKind.TRANSPARENT):
                result[label] = x509.load_der_x509_certificate(self._memory.file(app, fid))
        return result

    def meta(self) -> dict[str, str]:
        """A copy of the card file's metadata: ``seed``, ``serial``, ``atr``, ``holder`` (JSON),
        ``issued``, ... as strings."""
        return dict(self._memory.meta)

    def _require(self, pin: PinName) -> None:
        if not self._memory.has_pin(pin):
            raise IssuerError(f"this card has no {PIN_SPECS[pin].name_en}")
