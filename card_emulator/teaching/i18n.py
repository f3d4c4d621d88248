"""The user's language: ``--lang``, else ``LC_ALL`` / ``LC_MESSAGES`` / ``LANG``, else English.

Every text the teaching commands show exists in Japanese and English; :class:`Text` holds both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Lang(StrEnum):
    """The two languages of every text: Japanese and English."""

    JA = "ja"
    EN = "en"


# POSIX precedence: LC_ALL over LC_MESSAGES over LANG; the first non-empty one counts.
_LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def choose_lang(option: str | None = None, environ: Mapping[str, str] | None = None) -> Lang:
    """``option`` ("ja"/"en") wins; else a locale variable starting with "ja" means Japanese."""
    if option:
        value = option.strip().lower()
        if value.startswith("ja"):
            return Lang.JA
        if value.startswith("en"):
            return Lang.EN
        raise ValueError(f"unknown language {option!r}: use ja or en")
    env = os.environ if environ is None else environ
    for name in _LOCALE_VARIABLES:
        value = env.get(name, "")
        if value:
            return Lang.JA if value.lower().startswith("ja") else Lang.EN
    return Lang.EN


@dataclass(frozen=True, slots=True)
class Text:
    """One message in both languages."""

    en: str
    ja: str

    def __call__(self, lang: str) -> str:
        return self.ja if lang == Lang.JA else self.en

    def format(self, **values: object) -> Text:
        """Both languages with ``str.format(**values)`` applied (KeyError for a missing field)."""
        return Text(self.en.format(**values), self.ja.format(**values))

    def as_dict(self) -> dict[str, str]:
        """``{"en": ..., "ja": ...}``, as ``--json`` and the learning page give texts."""
        return {"en": self.en, "ja": self.ja}


def pick(lang: str, en: str, ja: str) -> str:
    """The text in ``lang``."""
    return ja if lang == Lang.JA else en


def count(lang: str, n: int, one: str, many: str, ja_unit: str) -> str:
    """A counted noun in ``lang``: ``"1 visit"``, ``"2 visits"``, ``"2回"`` (Japanese has no plural)."""
    if lang == Lang.JA:
        return f"{n}{ja_unit}"
    return f"{n} {one if n == 1 else many}"
