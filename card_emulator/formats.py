"""Number and date formats of the card and its holder, as the spec writes them.

The My Number check digit (card-interface.md §11.1), full-width digits in addresses (§5.3), the
Japanese eras of birth dates (§5.6, §11.3: 照合番号B, the birth-date key, the signing certificate's
EYYYYMMDD), and the card's expiry rule. Pure functions of their arguments; ValueError for input
outside the format.
"""

from __future__ import annotations

import re
from datetime import date
from enum import IntEnum

__all__ = [
    "Era",
    "age_in_years",
    "card_expiry_for",
    "era_code",
    "era_of",
    "era_yymmdd",
    "full_width_digits",
    "is_valid_my_number",
    "my_number_check_digit",
    "nth_birthday_after",
    "san_birth_date",
    "years_before",
]

# ---------------------------------------------------------------------------------------------
# Number formats (card-interface.md §11)
# ---------------------------------------------------------------------------------------------

_MY_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def my_number_check_digit(d11: str) -> int:
    """Check digit of an 11-digit My Number body (総務省令第85号 第5条, card-interface.md §11.1)."""
    if re.fullmatch(r"[0-9]{11}", d11) is None:
        raise ValueError("a My Number body is exactly 11 ASCII digits")
    remainder = sum(w * int(c) for w, c in zip(_MY_NUMBER_WEIGHTS, d11, strict=True)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_my_number(s: str) -> bool:
    """True for 12 ASCII digits whose last digit is the check digit of the first 11."""
    if re.fullmatch(r"[0-9]{12}", s) is None:
        return False
    return my_number_check_digit(s[:11]) == int(s[11])


_FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def full_width_digits(text: str) -> str:
    """ASCII digits and hyphens to their full-width forms, as addresses are written (§5.3)."""
    return text.translate(_FULL_WIDTH)


# ---------------------------------------------------------------------------------------------
# Japanese eras (card-interface.md §11.3)
# ---------------------------------------------------------------------------------------------


class Era(IntEnum):
    """Era codes as written in the signing certificate's birth date (EYYYYMMDD)."""

    MEIJI = 1  # 明治
    TAISHO = 2  # 大正
    SHOWA = 3  # 昭和
    HEISEI = 4  # 平成
    REIWA = 5  # 令和

    @property
    def name_ja(self) -> str:
        return _ERA_NAMES_JA[self]


_ERA_NAMES_JA = {
    Era.MEIJI: "明治",
    Era.TAISHO: "大正",
    Era.SHOWA: "昭和",
    Era.HEISEI: "平成",
    Era.REIWA: "令和",
}

# First day of each era, newest first. 明治 from 1868-01-25, the Gregorian date of 明治元年1月1日.
_ERA_STARTS: tuple[tuple[date, Era], ...] = (
    (date(2019, 5, 1), Era.REIWA),
    (date(1989, 1, 8), Era.HEISEI),
    (date(1926, 12, 25), Era.SHOWA),
    (date(1912, 7, 30), Era.TAISHO),
    (date(1868, 1, 25), Era.MEIJI),
)


def era_of(d: date) -> tuple[Era, int]:
    """The era a date falls in and the year within it (元年 = 1)."""
    for start, era in _ERA_STARTS:
        if d >= start:
            return era, d.year - start.year + 1
    raise ValueError(f"{d.isoformat()} is before the Meiji era (1868-01-25)")


def era_code(d: date) -> int:
    """1 明治, 2 大正, 3 昭和, 4 平成, 5 令和."""
    return int(era_of(d)[0])


def era_yymmdd(d: date) -> str:
    """Era year, month, day as 6 digits: 1980-02-17 (昭和55) → ``"550217"`` (§5.6)."""
    _, year = era_of(d)
    if year > 99:
        raise ValueError(f"era year {year} of {d.isoformat()} does not fit in two digits")
    return f"{year:02d}{d.month:02d}{d.day:02d}"


def san_birth_date(d: date) -> str:
    """Birth date as the signing certificate writes it: era digit + Gregorian YYYYMMDD (§11.3)."""
    return f"{era_code(d)}{d.year:04d}{d.month:02d}{d.day:02d}"


# ---------------------------------------------------------------------------------------------
# Birthdays, card and certificate expiry
# ---------------------------------------------------------------------------------------------


def _birthday_in(year: int, birth: date) -> date:
    try:
        return birth.replace(year=year)
    except ValueError:  # born on 29 February, a common year: 28 February
        return date(year, 2, 28)


def years_before(d: date, years: int) -> date:
    """The same day ``years`` years before ``d``; 29 February becomes 28 February in a common year."""
    return _birthday_in(d.year - years, d)


def age_in_years(birth: date, on: date) -> int:
    """Age in full years on ``on`` of someone born on ``birth`` (a year is added on the birthday)."""
    years = on.year - birth.year
    return years - 1 if (on.month, on.day) < (birth.month, birth.day) else years


def nth_birthday_after(birth: date, after: date, n: int) -> date:
    """The holder's n-th birthday strictly after ``after`` (n ≥ 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    first = _birthday_in(after.year, birth)
    first_year = after.year if first > after else after.year + 1
    return _birthday_in(first_year + n - 1, birth)


def card_expiry_for(birth: date, issued: date) -> date:
    """Card expiry: the 10th birthday after issuance from 18 on, else the 5th."""
    return nth_birthday_after(birth, issued, 10 if age_in_years(birth, issued) >= 18 else 5)
