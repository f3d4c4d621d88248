"""The applications of the card, by AID, and how a DF name (or a prefix of one) finds one."""

from __future__ import annotations

from apdu import StatusWord
from card_emulator.apps.base import Application, Context, Note, Session
from card_emulator.apps.common import CommonApplication
from card_emulator.apps.jpki import JpkiApplication
from card_emulator.apps.juki import JukiApplication
from card_emulator.apps.surface import SurfaceApplication
from card_emulator.apps.text import TextApplication
from card_emulator.errors import CardError
from card_emulator.rules import APP_AIDS, AppName

APPLICATIONS: dict[AppName, Application] = {
    app.name: app
    for app in (
        JpkiApplication(),
        TextApplication(),
        JukiApplication(),
        SurfaceApplication(),
        CommonApplication(),
    )
}
APP_BY_AID: dict[bytes, AppName] = {aid: name for name, aid in APP_AIDS.items()}
ISSUER_SECURITY_DOMAIN = bytes.fromhex("A0000001510000")  # the DF current after reset (§1.4)

# Every DF a SELECT by name can reach, in the order prefix selection walks them: ascending AID
# bytes (our choice; the card's own order is not public). Today: 共通AP, 住基AP, 券面事項確認AP,
# 券面事項入力補助AP, JPKI AP, then the Issuer Security Domain.
DF_ORDER: tuple[bytes, ...] = tuple(sorted([*APP_AIDS.values(), ISSUER_SECURITY_DOMAIN]))

FIRST, LAST, NEXT, PREVIOUS = 0b00, 0b01, 0b10, 0b11  # SELECT P2 b2-b1 (ISO 7816-4 §7.1.1)
# The DFs a whole DF name reaches, worked out once: SELECT by a full AID is what clients send most
# (issue 10: the prefix walk was a fifth of a SELECT's time). Any other name is walked as before.
_REACHED_BY_AID: dict[bytes, list[bytes]] = {
    aid: [df for df in DF_ORDER if df.startswith(aid)] for aid in DF_ORDER
}


def find_df(name: bytes, occurrence: int, current: bytes) -> bytes:
    """The DF name (AID) a SELECT by DF name reaches: every DF whose name starts with ``name``
    (JICSAP 4.2(1), ISO 7816-4 §7.1.1), taken in :data:`DF_ORDER`.

    ``occurrence`` is P2 b2-b1: first, last, next or previous. Next and previous are counted
    from ``current`` (the DF now selected) when it matches the name, else they start from the
    first (next) or the last (previous). CardError 6A82 when nothing (more) matches.
    """
    matches = _REACHED_BY_AID.get(name)
    if matches is None:
        matches = [aid for aid in DF_ORDER if aid.startswith(name)]
    if not matches:
        raise CardError(StatusWord.FILE_NOT_FOUND, "no application with this name")
    if occurrence == FIRST:
        return matches[0]
    if occurrence == LAST:
        return matches[-1]
    step = 1 if occurrence == NEXT else -1
    if current not in matches:
        return matches[0] if step == 1 else matches[-1]
    index = matches.index(current) + step
    if not 0 <= index < len(matches):
        raise CardError(StatusWord.FILE_NOT_FOUND, "no further application with this name")
    return matches[index]


__all__ = [
    "APPLICATIONS",
    "APP_BY_AID",
    "DF_ORDER",
    "ISSUER_SECURITY_DOMAIN",
    "Application",
    "Context",
    "Note",
    "Session",
    "find_df",
]
