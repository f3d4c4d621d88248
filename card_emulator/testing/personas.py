"""Named holders that break card-reading software, for tests that do not use hypothesis.

Each :class:`NamedPersona` is a card spec (seed, variant, holder fields, PINs) plus what it
exercises. They share seed 0 (its keys are made once) and differ by what they override. Use one with the pytest plugin (``@pytest.mark.mynacard(persona=personas.LONG_ADDRESS)``,
``mynacard_factory(persona=personas.LEAP_DAY)``) or alone (``personas.LONG_ADDRESS.card()``).
``ALL`` lists them; the README's table is checked against it. Every person is synthetic.

Sources: card-interface.md §5.3 (EF 0002 ``FF20``: UTF-8 name and address, length forms ``81 xx`` /
``82 xx xx``), §5.6 (照合番号B: era-year YYMMDD + expiry year + security code), §11.3 (era codes),
§12.2 (the signing certificate's birth date ``EYYYYMMDD``); pin-rules.md §1 (formats, under 15).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from card_emulator.card import Card
from card_emulator.issuance import Variant
from card_emulator.testing.factory import CardSpec, default_factory

__all__ = [
    "ALL",
    "BORN_FIRST_DAY_OF_HEISEI",
    "BORN_FIRST_DAY_OF_REIWA",
    "BORN_LAST_DAY_OF_HEISEI",
    "BORN_LAST_DAY_OF_SHOWA",
    "BORN_SHOWA_GANNEN",
    "BORN_TAISHO",
    "EXPIRED",
    "FOREIGN_RESIDENT",
    "LEAP_DAY",
    "LONG_ADDRESS",
    "LONG_NAME",
    "LONG_SIGNING_PASSWORD",
    "MEDIUM_ADDRESS",
    "NON_BMP_NAME",
    "SEX_FEMALE",
    "SEX_MALE",
    "SEX_NOT_APPLICABLE",
    "SEX_UNKNOWN",
    "SHARED_PIN_VALUE",
    "SHORT_SIGNING_PASSWORD",
    "STANDARD",
    "UNDER_15",
    "NamedPersona",
]


@dataclass(frozen=True)
class NamedPersona:
    """A synthetic holder with a purpose. ``holder`` and ``pins`` are read-only mappings."""

    name: str
    exercises: str
    seed: int = 0
    variant: Variant = "standard"
    issued: date | None = None
    holder: Mapping[str, Any] = field(default_factory=dict)
    pins: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "holder", MappingProxyType(dict(self.holder)))
        object.__setattr__(self, "pins", MappingProxyType(dict(self.pins)))

    def __hash__(self) -> int:
        return hash(self.spec())

    def spec(self) -> CardSpec:
        """The card spec this persona stands for (seed, variant, issuance date, holder fields,
        PINs)."""
        return CardSpec(
            seed=self.seed,
            variant=self.variant,
            issued=self.issued,
            holder=tuple(sorted(self.holder.items())),
            pins=tuple(sorted(self.pins.items())),
        )

    def card(self, **keywords: Any) -> Card:
        """A fresh card of this persona; ``keywords`` as ``CardFactory.create`` (tries, locked...)."""
        return default_factory().create(persona=self, **keywords)

    def __repr__(self) -> str:
        return f"personas.{self.name}"


# Text long enough for each length form of FF20 and its objects (UTF-8: 3 bytes per kanji/kana).
_LONG_TOWN = "大字長者原字東長者原"  # 10 characters, 30 bytes
_BUILDING = "テストパークレジデンス東長者原弐番館"

STANDARD = NamedPersona(
    "STANDARD",
    "an adult with both certificates: the baseline every other persona departs from",
)
LONG_NAME = NamedPersona(
    "LONG_NAME",
    "a name of 150 bytes: DF22 needs the 81 xx length form and FF20 82 xx xx",
    holder={"name": "勅使河原長宗我部左衛門三郎\u3000" + "寿限無五劫擦切海砂利水魚" * 3 + "之介"},
)
MEDIUM_ADDRESS = NamedPersona(
    "MEDIUM_ADDRESS",
    "an address of about 100 bytes: FF20 needs 81 xx while DF23 keeps the short form",
    holder={"address": "北海道札幌市中央区" + _LONG_TOWN + "１２－３４－５６\u3000テスト荘１０１"},
)
LONG_ADDRESS = NamedPersona(
    "LONG_ADDRESS",
    "an address of over 300 bytes: DF23 and FF20 need 82 xx xx, and EF 0002 is longer than one "
    "256-byte READ BINARY",
    holder={
        "address": "鹿児島県鹿児島郡三島村"
        + _LONG_TOWN * 4
        + "１２３４番地５６７８\u3000"
        + _BUILDING * 2
        + "１２３４５号室"
    },
)
NON_BMP_NAME = NamedPersona(
    "NON_BMP_NAME",
    "characters outside the BMP (𠮷, 𩸽: 4 UTF-8 bytes, 2 UTF-16 units): byte and character "
    "counts differ",
    holder={"name": "𠮷野\u3000𩸽子", "name_kana": "ヨシノ\u3000ホッケコ"},
)
FOREIGN_RESIDENT = NamedPersona(
    "FOREIGN_RESIDENT",
    "a name in Latin letters with ASCII spaces, as for many foreign residents: no U+3000 separator",
    holder={"name": "GONZALEZ RODRIGUEZ MARIA DEL CARMEN ALEJANDRA", "sex": "2"},
)
SEX_MALE = NamedPersona("SEX_MALE", 'DF25 = "1" (JIS X 0303 male)', holder={"sex": "1"})
SEX_FEMALE = NamedPersona("SEX_FEMALE", 'DF25 = "2" (JIS X 0303 female)', holder={"sex": "2"})
SEX_NOT_APPLICABLE = NamedPersona(
    "SEX_NOT_APPLICABLE",
    'DF25 = "9" (JIS X 0303 not applicable): parsers that map only 1/2 fail',
    holder={"sex": "9"},
)
SEX_UNKNOWN = NamedPersona(
    "SEX_UNKNOWN",
    'DF25 = "0" (JIS X 0303 not known): falsy in languages that read it as a number',
    holder={"sex": "0"},
)
BORN_LAST_DAY_OF_SHOWA = NamedPersona(
    "BORN_LAST_DAY_OF_SHOWA",
    "born 1989-01-07, 昭和64年: 照合番号B starts 640107; certificate birth date 319890107",
    holder={"birth_date": date(1989, 1, 7)},
)
BORN_FIRST_DAY_OF_HEISEI = NamedPersona(
    "BORN_FIRST_DAY_OF_HEISEI",
    "born 1989-01-08, 平成元年: 照合番号B starts 010108 (era year 1, not 64 or 89)",
    holder={"birth_date": date(1989, 1, 8)},
)
BORN_LAST_DAY_OF_HEISEI = NamedPersona(
    "BORN_LAST_DAY_OF_HEISEI",
    "born 2019-04-30, 平成31年, under 15: 照合番号B starts 310430; no signing certificate",
    variant="under15",
    holder={"birth_date": date(2019, 4, 30)},
)
BORN_FIRST_DAY_OF_REIWA = NamedPersona(
    "BORN_FIRST_DAY_OF_REIWA",
    "born 2019-05-01, 令和元年, under 15: 照合番号B starts 010501; era code 5",
    variant="under15",
    holder={"birth_date": date(2019, 5, 1)},
)
BORN_SHOWA_GANNEN = NamedPersona(
    "BORN_SHOWA_GANNEN",
    "born 1926-12-25, the first day of 昭和 (its year 1 lasted a week): 照合番号B starts 011225",
    holder={"birth_date": date(1926, 12, 25)},
)
BORN_TAISHO = NamedPersona(
    "BORN_TAISHO",
    "born 1926-12-24, 大正15年, the era's last day: era code 2 in the certificate (226...)",
    holder={"birth_date": date(1926, 12, 24)},
)
LEAP_DAY = NamedPersona(
    "LEAP_DAY",
    "born 1988-02-29 (昭和63年): 照合番号B starts 630229; birthdays fall on 28 February in common "
    "years (certificate expiry 2031-02-28)",
    holder={"birth_date": date(1988, 2, 29)},
)
UNDER_15 = NamedPersona(
    "UNDER_15",
    "a holder under 15: no signing certificate, EF 0001 and key 001A absent (6A82), EF 0008 "
    "= 00 8F 00",
    variant="under15",
)
EXPIRED = NamedPersona(
    "EXPIRED",
    "certificates expired before the issuance date while the card itself is valid",
    variant="expired",
)
SHARED_PIN_VALUE = NamedPersona(
    "SHARED_PIN_VALUE",
    "the three 4-digit PINs set to one value (allowed): still three counters",
    pins={"user_auth": "2580", "resident_registry": "2580", "text_input_helper": "2580"},
)
LONG_SIGNING_PASSWORD = NamedPersona(
    "LONG_SIGNING_PASSWORD",
    "a 16-character signing password, the longest allowed (buffers sized for 8 overflow)",
    pins={"signing": "ABCDEFGH12345678"},
)
SHORT_SIGNING_PASSWORD = NamedPersona(
    "SHORT_SIGNING_PASSWORD",
    "a 6-character signing password, the shortest allowed",
    pins={"signing": "A1B2C3"},
)

ALL: tuple[NamedPersona, ...] = (
    STANDARD,
    LONG_NAME,
    MEDIUM_ADDRESS,
    LONG_ADDRESS,
    NON_BMP_NAME,
    FOREIGN_RESIDENT,
    SEX_MALE,
    SEX_FEMALE,
    SEX_NOT_APPLICABLE,
    SEX_UNKNOWN,
    BORN_LAST_DAY_OF_SHOWA,
    BORN_FIRST_DAY_OF_HEISEI,
    BORN_LAST_DAY_OF_HEISEI,
    BORN_FIRST_DAY_OF_REIWA,
    BORN_SHOWA_GANNEN,
    BORN_TAISHO,
    LEAP_DAY,
    UNDER_15,
    EXPIRED,
    SHARED_PIN_VALUE,
    LONG_SIGNING_PASSWORD,
    SHORT_SIGNING_PASSWORD,
)
