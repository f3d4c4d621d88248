"""Where each PIN can be CHANGED (変更), as opposed to reset: a table from the seed pages.

A change needs the current PIN and a PIN that is not locked; it never unlocks one (pin-rules.md §3;
seeds 000, 003, 004). Which places change which PINs: seed 004 (マイナポータル: the signing,
user-authentication and text-input-helper PINs, not the resident-registry one), 000 and 004 (at
home with the JPKI user software), 000, 003 and 004 (the municipal window).
"""

from __future__ import annotations

from dataclasses import dataclass

from card_emulator.rules import USER_PINS, PinName
from card_emulator.teaching.i18n import Text
from card_emulator.teaching.sources import Fact, Source, seeds


@dataclass(frozen=True, slots=True)
class ChangePlace:
    """One place where a holder changes a PIN, the PINs it changes, what it needs, the source."""

    key: str
    name: Text
    pins: tuple[PinName, ...]
    needs: Text
    source: Source


CHANGE_PLACES: tuple[ChangePlace, ...] = (
    ChangePlace(
        "home",
        Text(
            "at home: the JPKI user software (JPKI利用者ソフト) with a card reader or a smartphone",
            "自宅: JPKI利用者ソフト(利用者クライアントソフト)とカードリーダーまたはスマートフォン",
        ),
        USER_PINS,
        Text(
            "the current PIN; which PINs it offers differs by device (004)",
            "現在の暗証番号。変更できる暗証番号は端末ごとに異なります(004)",
        ),
        seeds("000", "004"),
    ),
    ChangePlace(
        "mynaportal",
        Text("マイナポータル (Mynaportal), online", "マイナポータル(オンライン)"),
        (PinName.SIGNING, PinName.USER_AUTH, PinName.TEXT_INPUT_HELPER),
        Text(
            "the current PIN; not the resident-registry PIN",
            "現在の暗証番号。住民基本台帳用の暗証番号は変更できません",
        ),
        seeds("004"),
    ),
    ChangePlace(
        "window",
        Text("the municipal window (市区町村の窓口)", "市区町村の窓口"),
        USER_PINS,
        Text(
            "the card and the current PIN; a proxy takes a mailed inquiry and two visits "
            "(three in Kanazawa)",
            "カードと現在の暗証番号。任意代理人は照会書の郵送と2回の来庁(金沢市は3回)",
        ),
        seeds("000", "003", "004"),
    ),
)

CHANGE_RULES: tuple[Fact, ...] = (
    Fact(
        Text(
            "A change needs the current PIN; a wrong current PIN refuses the change and counts as "
            "a wrong entry.",
            "変更には現在の暗証番号が必要です。現在の暗証番号を間違えると変更できず、誤入力として数えられます。",
        ),
        seeds("000", "003", "004"),
    ),
    Fact(
        Text(
            "A change never unlocks a locked PIN; a forgotten PIN needs a reset even when not locked.",
            "変更ではロックは解除できません。暗証番号を忘れた場合は、ロックされていなくても再設定が必要です。",
        ),
        seeds("004"),
    ),
)


def places_for(pin: PinName) -> tuple[ChangePlace, ...]:
    """The places where ``pin`` can be changed."""
    return tuple(place for place in CHANGE_PLACES if pin in place.pins)
