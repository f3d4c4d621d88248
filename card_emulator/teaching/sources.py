"""Where each fact the teaching features show comes from: a seed page, or an assumption.

The seed pages are the public municipal and explanatory pages in ``shared/seeds/`` that
``shared/spec/pin-rules.md`` distils. Every fact shown to a learner carries a :class:`Source`: the
seed pages that state it, or the words "assumption" with what was assumed, so nothing is presented
as more certain than it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from card_emulator.teaching.i18n import Lang, Text


@dataclass(frozen=True, slots=True)
class Seed:
    """One seed page: its number, file name in ``shared/seeds/``, who wrote it and when."""

    number: str
    file: str
    author: Text
    updated: str


SEEDS: dict[str, Seed] = {
    seed.number: seed
    for seed in (
        Seed("000", "000_61ac460c8c1150da.txt", Text("Yachimata city", "八街市"), "2022-04-01"),
        Seed("001", "001_adc38dc2aded7d65.txt", Text("an explanatory blog", "解説ブログ"), "~2020"),
        Seed("002", "002_a2d066b0acccd58c.txt", Text("Oyamazaki town", "大山崎町"), "2024-07-27"),
        Seed("003", "003_4fd1687b57b0cf2a.txt", Text("Mitaka city", "三鷹市"), "2025-04-30"),
        Seed("004", "004_2cdea75dd0e06110.txt", Text("Kanazawa city", "金沢市"), "2025"),
    )
}


@dataclass(frozen=True, slots=True)
class Source:
    """The seed pages a fact comes from, or (``assumption`` set) what the model assumes instead.

    ``spec`` names a section of the team's specs for facts about the chip itself.
    """

    seeds: tuple[str, ...] = ()
    assumption: Text | None = None
    spec: str = ""

    def __post_init__(self) -> None:
        unknown = [s for s in self.seeds if s not in SEEDS]
        if unknown:
            raise ValueError(f"unknown seed page(s): {', '.join(unknown)}")

    def label(self, lang: str) -> str:
        """``"seed 002, 004"`` / ``"資料002, 004"``, ``"assumption: …"`` / ``"仮定: …"``."""
        parts = []
        if self.seeds:
            parts.append(("資料" if lang == Lang.JA else "seed ") + ", ".join(self.seeds))
        if self.spec:
            parts.append(self.spec)
        if self.assumption is not None:
            parts.append(("仮定: " if lang == Lang.JA else "assumption: ") + self.assumption(lang))
        return "; ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """For JSON: the seed numbers and file names, and the assumption in both languages."""
        return {
            "seeds": [{"number": s, "file": SEEDS[s].file} for s in self.seeds],
            "spec": self.spec or None,
            "assumption": self.assumption.as_dict() if self.assumption else None,
        }


NO_SOURCE = Source()


def seeds(*numbers: str) -> Source:
    """The source of a fact stated by these seed pages."""
    return Source(tuple(numbers))


def assumed(en: str, ja: str, *numbers: str) -> Source:
    """A fact no seed page states: what is assumed, and the seed pages it leans on."""
    return Source(tuple(numbers), Text(en, ja))


@dataclass(frozen=True, slots=True)
class Fact:
    """One sentence shown to a learner and where it comes from."""

    text: Text
    source: Source

    def __call__(self, lang: str) -> str:
        return f"{self.text(lang)} [{self.source.label(lang)}]"

    def as_dict(self) -> dict[str, object]:
        """``{"en", "ja", "source"}``: the fact in both languages with its seed pages or assumption."""
        return {**self.text.as_dict(), "source": self.source.as_dict()}
