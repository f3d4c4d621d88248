"""Hypothesis strategies for PIN values, holders and whole cards (needs ``hypothesis``).

Re-exported by ``card_emulator.testing.strategies``, where the README points: :func:`pin_values`
valid or invalid for each PIN's format (pin-rules.md §1); :func:`names`, :func:`addresses`,
:func:`birth_dates` (era boundaries and 29 February weighted in), :func:`sexes`, :func:`holders`,
:func:`card_specs`, :func:`cards` (card-interface.md §5.3, §5.6, §11.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from card_emulator.card import Card
from card_emulator.formats import full_width_digits, years_before
from card_emulator.issuance import EXPIRED_YEARS_AGO, Variant
from card_emulator.persona import DEFAULT_ISSUED
from card_emulator.pin_names import parse_pin_name
from card_emulator.rules import PIN_SPECS, PinName
from card_emulator.testing.factory import CardSpec, default_factory

__all__ = [
    "ERA_BOUNDARY_DATES",
    "addresses",
    "birth_dates",
    "card_specs",
    "cards",
    "holders",
    "names",
    "pin_values",
    "sexes",
]

# ---------------------------------------------------------------------------------------------
# PIN values (pin-rules.md §1, card-interface.md §10.1)
# ---------------------------------------------------------------------------------------------

_DIGITS = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@st.composite
def _signing_password(draw: st.DrawFn) -> str:
    size = draw(st.integers(6, 16))
    body = draw(st.text(_UPPER + _DIGITS, min_size=size - 2, max_size=size - 2))
    chars = [*body, draw(st.sampled_from(_UPPER)), draw(st.sampled_from(_DIGITS))]
    return "".join(draw(st.permutations(chars)))


def pin_values(pin: PinName | str, *, valid: bool = True) -> st.SearchStrategy[str]:
    """Values of ``pin``'s format (``valid``), or values a careless client might send that break it:
    full-width digits (１２３４), lower case (``abc123``), too short, too long, non-ASCII digits
    (Arabic-Indic ٠١٢٣, which ``str.isdigit`` accepts), letters or digits only for the signing
    password, embedded spaces. Encode invalid ones with UTF-8 to send them. ``pin``: a PinName,
    its value or an alias (``card_emulator.pin_names``)."""
    pin = parse_pin_name(pin)
    spec = PIN_SPECS[pin]
    fmt = spec.format
    if valid:
        if pin is PinName.SIGNING:
            return _signing_password()
        return st.text(_DIGITS, min_size=fmt.min_length, max_size=fmt.max_length)
    short = st.text(_DIGITS + _UPPER, min_size=1, max_size=max(1, fmt.min_length - 1))
    long = st.text(_DIGITS + _UPPER, min_size=fmt.max_length + 1, max_size=fmt.max_length + 8)
    n = fmt.min_length
    full_width = st.text(_DIGITS, min_size=n, max_size=n).map(full_width_digits)
    arabic = st.text("٠١٢٣٤٥٦٧٨٩", min_size=n, max_size=n)
    spaced = st.text(_DIGITS, min_size=n - 1, max_size=n - 1).map(lambda s: s[:1] + " " + s[1:])
    options = [short, long, full_width, arabic, spaced]
    if pin is PinName.SIGNING:
        options += [
            _signing_password().map(str.lower),
            st.text(_UPPER, min_size=6, max_size=16),  # no digit
            st.text(_DIGITS, min_size=6, max_size=16),  # no letter
            st.text("ABCDEF12345!@#-_", min_size=6, max_size=16).filter(
                lambda s: any(c in "!@#-_" for c in s)
            ),
        ]
    else:
        options.append(st.text(_UPPER + "abc", min_size=n, max_size=n))
    return st.one_of(options).filter(lambda s: not fmt.accepts(s))


# ---------------------------------------------------------------------------------------------
# Holders that break parsers (card-interface.md §5.3, §5.6, §11.3)
# ---------------------------------------------------------------------------------------------

# The last and first day of each modern era, and leap days in each era (照合番号B's YYMMDD).
ERA_BOUNDARY_DATES: tuple[date, ...] = (
    date(1912, 7, 29),  # 明治45年 last day
    date(1912, 7, 30),  # 大正元年
    date(1926, 12, 24),  # 大正15年 last day
    date(1926, 12, 25),  # 昭和元年 (one week long)
    date(1989, 1, 7),  # 昭和64年 last day
    date(1989, 1, 8),  # 平成元年
    date(2019, 4, 30),  # 平成31年 last day
    date(2019, 5, 1),  # 令和元年
    date(1988, 2, 29),  # leap day, 昭和63年
    date(2000, 2, 29),  # leap day, 平成12年 (a century leap year)
    date(2020, 2, 29),  # leap day, 令和2年
)
_KANJI = (
    "佐藤鈴木高橋田中伊渡辺山本中村小林加吉田佐々木松井上斎清水森池阿部橋石川山崎長谷川之介左衛門"
)
_RARE = "𠮷𩸽𡈽髙﨑德々ヶゑゐ"
_KANA = "あいうえおかきくけこさしすせそアイウエオカキクケコサシスセソ"
_LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def names(*, max_size: int = 100) -> st.SearchStrategy[str]:
    """Names as the card's DF22 holds them: kanji and kana (rare and non-BMP ones included) with
    U+3000 between family and given name, or Latin capitals with ASCII spaces (foreign
    residents); up to ``max_size`` characters — 43 kanji already need the ``81 xx`` length."""
    part = st.text(_KANJI + _KANA + _RARE, min_size=1, max_size=max(1, max_size // 2 - 1))
    japanese = st.tuples(part, part).map(lambda t: f"{t[0]}\u3000{t[1]}")
    word = st.text(_LATIN, min_size=1, max_size=12)
    latin = st.lists(word, min_size=1, max_size=max(1, max_size // 6)).map(" ".join)
    return st.one_of(japanese, latin).map(lambda s: s[:max_size])


def addresses(*, max_size: int = 400) -> st.SearchStrategy[str]:
    """Addresses as DF23 holds them: kanji, kana, full-width digits and ``－``, an optional
    building after U+3000; up to ``max_size`` characters (86+ need ``82 xx xx`` for DF23)."""
    town = st.text(_KANJI + _KANA + _RARE, min_size=1, max_size=max(1, max_size // 3))
    numbers = st.lists(st.integers(1, 9999), min_size=1, max_size=4).map(
        lambda ns: full_width_digits("-".join(str(n) for n in ns))
    )
    building = st.one_of(st.just(""), town.map(lambda b: "\u3000" + b))
    return st.tuples(
        st.sampled_from(["東京都", "北海道", "京都府", "沖縄県"]), town, numbers, building
    ).map(lambda t: "".join(t)[:max_size])


def birth_dates(
    *, variant: Variant = "standard", issued: date = DEFAULT_ISSUED
) -> st.SearchStrategy[date]:
    """Birth dates a card issued on ``issued`` in ``variant`` can hold, era boundaries and leap
    days often: under 15 for ``under15``; on or before the (earlier) issuance for ``expired``."""
    if variant == "under15":
        low, high = issued - timedelta(days=15 * 365 - 4), issued - timedelta(days=1)
    else:
        high = issued if variant == "standard" else years_before(issued, EXPIRED_YEARS_AGO)
        low = date(1900, 1, 1)
    edges = [d for d in ERA_BOUNDARY_DATES if low <= d <= high]
    ranged = st.dates(low, high)
    return st.one_of(st.sampled_from(edges), ranged) if edges else ranged


def sexes() -> st.SearchStrategy[str]:
    """Every sex code the card can hold: JIS X 0303 ``1``, ``2``, ``9`` and ``0``."""
    return st.sampled_from(["1", "2", "9", "0"])


@st.composite
def holders(
    draw: st.DrawFn, *, variant: Variant = "standard", issued: date = DEFAULT_ISSUED
) -> dict[str, Any]:
    """Holder overrides for the factory's ``holder=``: name, address, birth date, sex, and
    sometimes a security code; consistent with ``variant`` and ``issued``."""
    holder: dict[str, Any] = {
        "name": draw(names()),
        "address": draw(addresses()),
        "birth_date": draw(birth_dates(variant=variant, issued=issued)),
        "sex": draw(sexes()),
    }
    if draw(st.booleans()):
        holder["security_code"] = draw(st.text(_DIGITS, min_size=4, max_size=4))
    return holder


@st.composite
def card_specs(
    draw: st.DrawFn, *, seeds: Sequence[int] = (0, 1), variants: Sequence[Variant] | None = None
) -> CardSpec:
    """Specs of whole cards: a seed from ``seeds`` (few, so keys are made once per seed), a
    variant, and a holder from :func:`holders`."""
    variant = draw(st.sampled_from(list(variants or ("standard", "under15", "expired"))))
    holder = draw(holders(variant=variant))
    return CardSpec.of(seed=draw(st.sampled_from(list(seeds))), variant=variant, holder=holder)


def cards(
    *, seeds: Sequence[int] = (0, 1), variants: Sequence[Variant] | None = None
) -> st.SearchStrategy[Card]:
    """Fresh, powered cards of :func:`card_specs` (``card.created_pins`` holds their PINs). The
    test owns each card: close it, or let it be collected."""
    return card_specs(seeds=seeds, variants=variants).map(lambda spec: _make(spec))


def _make(spec: CardSpec) -> Card:
    card = default_factory().fresh(spec)
    card.power_on()
    return card
