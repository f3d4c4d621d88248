"""What a reader application sends for a PIN: SELECT, VERIFY, CHANGE, as APDUs to a real card.

A terminal (a reader app, a kiosk, the CLI, the learning page) talks to the card only through these
APDUs (card-interface.md §2), so the card alone decides and counts. Also here: the learning page's
spellings of the four PINs, and the hint for a value that is nearly right (full-width, lower case).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apdu import CommandApdu, retries_left
from card_emulator.pin_names import parse_pin_name
from card_emulator.rules import APP_AIDS, PIN_SPECS, ChangeCommand, PinName
from card_emulator.teaching.i18n import Text

if TYPE_CHECKING:
    from card_emulator.card import Card


def select_app_apdu(pin: PinName) -> bytes:
    """SELECT the application holding ``pin`` by its AID: ``00 A4 04 0C`` (card-interface.md §2.1)."""
    aid = APP_AIDS[PIN_SPECS[pin].app]
    return CommandApdu(0x00, 0xA4, 0x04, 0x0C, aid).to_bytes()


def select_pin_ef_apdu(pin: PinName) -> bytes:
    """SELECT the PIN's EF by its 2-byte identifier: ``00 A4 02 0C 02 fid`` (§2.1)."""
    fid = PIN_SPECS[pin].fid.to_bytes(2, "big")
    return CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid).to_bytes()


def verify_apdu(value: bytes) -> bytes:
    """``00 20 00 80 Lc value``; an empty value is the tries query ``00 20 00 80`` (§2.4)."""
    return CommandApdu(0x00, 0x20, 0x00, 0x80, value).to_bytes()


def change_apdu(pin: PinName, new_value: bytes) -> bytes:
    """CHANGE REFERENCE DATA ``00 24 01 80`` or, in 住基AP, CHANGE KEY ``80 32 00 80`` (§2.5)."""
    command = PIN_SPECS[pin].change or ChangeCommand.CHANGE_REFERENCE_DATA
    cla, ins, p1, p2 = command.value
    return CommandApdu(cla, ins, p1, p2, new_value).to_bytes()


def _sw(response: bytes) -> int:
    return int.from_bytes(response[-2:], "big") if len(response) >= 2 else 0x6F00


@dataclass(frozen=True, slots=True)
class PinAnswer:
    """The card's answer to the last command of a PIN operation.

    ``step``: where the operation stopped: select_app, select_ef, verify, query or change.
    """

    pin: PinName
    sw: int
    step: str

    @property
    def ok(self) -> bool:
        """The card answered 9000."""
        return self.sw == 0x9000

    @property
    def tries_left(self) -> int | None:
        """Tries left as the card reported them (63Cx), else None."""
        return retries_left(self.sw)

    @property
    def locked(self) -> bool:
        """6984, or 63C0: no tries left."""
        return self.sw == 0x6984 or (self.tries_left == 0)

    @property
    def tries(self) -> int | None:
        """Tries left after the operation: the maximum after 9000, 0 after 6984, else 63Cx's x."""
        if self.ok:
            return PIN_SPECS[self.pin].max_tries
        if self.sw == 0x6984:
            return 0
        return self.tries_left


def _selected_then(card: Card, pin: PinName, step: str, apdu: bytes) -> PinAnswer:
    """SELECT the PIN's application and EF, then send ``apdu``; the answer where it stopped."""
    for select_step, select in (
        ("select_app", select_app_apdu(pin)),
        ("select_ef", select_pin_ef_apdu(pin)),
    ):
        sw = _sw(card.transmit(select))
        if sw != 0x9000:
            return PinAnswer(pin, sw, select_step)
    return PinAnswer(pin, _sw(card.transmit(apdu)), step)


def query_pin(card: Card, pin: PinName) -> PinAnswer:
    """Tries left without spending one: VERIFY with no data (63Cx; 63C0 when locked)."""
    return _selected_then(card, pin, "query", verify_apdu(b""))


def verify_pin(card: Card, pin: PinName, value: str) -> PinAnswer:
    """SELECT the application and the PIN EF, then VERIFY ``value`` (ASCII, as clients send it).

    Characters outside ASCII are sent as their UTF-8 bytes, as a careless client would.
    """
    return _selected_then(card, pin, "verify", verify_apdu(value.encode()))


def change_pin(card: Card, pin: PinName, current: str, new: str) -> PinAnswer:
    """VERIFY the current value, then CHANGE to ``new``; stops at the first refusal (pin-rules §3)."""
    answer = verify_pin(card, pin, current)
    if not answer.ok:
        return answer
    return PinAnswer(pin, _sw(card.transmit(change_apdu(pin, new.encode()))), "change")


def change_without_verify(card: Card, pin: PinName, new: str) -> PinAnswer:
    """CHANGE right after SELECT, with no VERIFY: shows the card's 6982."""
    return _selected_then(card, pin, "change", change_apdu(pin, new.encode()))


# ---------------------------------------------------------------------------------------------
# Names and near misses
# ---------------------------------------------------------------------------------------------

# The learning page's short spellings of the four PINs (its select values and test ids); the CLI
# and scenario files accept them too, as aliases of the canonical PinName values (pin_names).
PIN_ALIASES: dict[str, PinName] = {
    "signing": PinName.SIGNING,
    "user-auth": PinName.USER_AUTH,
    "resident": PinName.RESIDENT_REGISTRY,
    "text": PinName.TEXT_INPUT_HELPER,
}
CLI_PIN_NAME: dict[PinName, str] = {v: k for k, v in PIN_ALIASES.items()}


def parse_pin(name: str) -> PinName:
    """A PIN by its canonical name or an alias (``card_emulator.pin_names``); ValueError else."""
    return parse_pin_name(name)


def near_miss(pin: PinName, value: str) -> Text | None:
    """Why ``value`` breaks the PIN's format when it is nearly right, else None.

    Full-width digits and letters (全角, what a Japanese input method types) become half-width
    (半角) under NFKC; lower-case letters in the signing password become upper case. The card
    itself only sees bytes: this is the hint a kind terminal gives before sending anything.
    """
    spec = PIN_SPECS[pin]
    if spec.format.accepts(value):
        return None
    folded = unicodedata.normalize("NFKC", value)
    if folded != value and spec.format.accepts(folded):
        return Text(
            "it is typed in full-width characters (全角); type it in half-width (半角) instead",
            "全角で入力されています。半角(全角 → 半角)で入力してください",
        )
    if spec.format.accepts(folded.upper()):
        return Text(
            "letters must be upper case (A–Z)",
            "英字は大文字(A–Z)で入力してください",
        )
    if folded.strip() != folded and spec.format.accepts(folded.strip()):
        return Text("remove the spaces", "空白を取り除いてください")
    return None
