"""``mynacard rules``: the four PINs, what locks them, where to reset and where to change them.

Rendered from ``card_emulator.rules`` (what the card enforces) and the teaching tables
(``teaching.reset_data``, ``teaching.changes``); every fact names its seed page or says it is an
assumption.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from card_emulator.cli.app import app
from card_emulator.cli.teach_util import (
    SHORT_PIN,
    JsonOption,
    LangOption,
    echo,
    h,
    lang_of,
    when,
)
from card_emulator.pin_names import aliases_of
from card_emulator.rules import MAY_SHARE_VALUE, PIN_SPECS, USER_PINS
from card_emulator.teaching.i18n import Lang, Text, pick

# The teaching tables and rich are imported where they are used (start-up: cli/app.py).
if TYPE_CHECKING:
    from card_emulator.teaching.sources import Fact


def rules_data(on: date) -> dict[str, Any]:
    """The rules in force on ``on`` as JSON-ready data (``mynacard rules --json``).

    Each PIN is named by its canonical PinName value (``pin``; ``cli_name`` is the same, kept for
    scripts written before the names were unified) with the ``aliases`` the CLI also accepts.
    """
    from card_emulator.teaching import reset as resets
    from card_emulator.teaching.changes import CHANGE_PLACES, places_for

    rule = resets.kiosk_rule_on(on)
    kiosk = resets.KIOSK_PINS[rule]
    pins = []
    for pin in USER_PINS:
        spec = PIN_SPECS[pin]
        channels = ["window"] + (["kiosk"] if pin in kiosk else [])
        pins.append({
            "pin": pin.value,
            "cli_name": pin.value,
            "aliases": list(aliases_of(pin)),
            "name": {"en": spec.name_en, "ja": spec.name_ja},
            "purpose": {"en": spec.purpose_en, "ja": spec.purpose_ja},
            "format": {"en": spec.format.description_en, "ja": spec.format.description_ja},
            "max_tries": spec.max_tries,
            "reset_channels": channels,
            "kiosk_needs": kiosk[pin].value if pin in kiosk else None,
            "change_at": [place.key for place in places_for(pin)],
            "may_share_value_with": [
                p.value for p in sorted(MAY_SHARE_VALUE) if p != pin and pin in MAY_SHARE_VALUE
            ],
        })  # fmt: skip
    return {
        "date": on.isoformat(),
        "kiosk_rule": rule.value,
        "kiosk_rule_source": resets.RULE_SOURCES[rule].as_dict(),
        "kiosk_rule_2025_from": resets.RULE_2025_FROM.isoformat(),
        "kiosk_rule_2025_from_is_assumed": True,
        "pins": pins,
        "channels": [
            {"channel": ch.value, "pins": [p.value for p in ps], "conditions": text.as_dict(),
             "source": source.as_dict()}
            for ch, ps, text, source in resets.reset_channels(on)
        ],
        "change_places": [
            {"place": place.key, "name": place.name.as_dict(), "pins": [p.value for p in place.pins],
             "needs": place.needs.as_dict(), "source": place.source.as_dict()}
            for place in CHANGE_PLACES
        ],
        "notes": [fact.as_dict() for fact in rules_notes()],
    }  # fmt: skip


def rules_notes() -> list[Fact]:
    """The general rules, each with its seed pages (pin-rules.md §1–§3)."""
    from card_emulator.teaching import reset as resets
    from card_emulator.teaching.changes import CHANGE_RULES
    from card_emulator.teaching.sources import Fact, seeds

    return [
        Fact(Text("Wrong entries are counted on the card: they add up across services, readers "
                  "and days, and do not go away with time.",
                  "誤入力はカードに記録され、サービス・機器・日付をまたいで累積し、時間がたっても戻りません。"),
             seeds("004")),
        Fact(Text("One correct entry restores the full count; a locked PIN stays locked even when "
                  "the correct value is remembered.",
                  "正しく1回入力すると回数は戻ります。ロックされた暗証番号は、正しい値を思い出しても"
                  "再設定しない限り解除されません。"), seeds("004", "002")),
        *CHANGE_RULES,
        Fact(Text("The user-authentication, resident-registry and text-input-helper PINs may "
                  "share one value and still count separately; the signing password cannot "
                  "(its format differs).",
                  "利用者証明用・住基・券面事項入力補助用は同じ値にできますが、回数は別々に数えます。"
                  "署名用は形式が違うため同じにできません。"), seeds("004", "001")),
        Fact(Text(f"Kiosk rule by date: 2024 rule before {resets.RULE_2025_FROM.isoformat()}, "
                  "2025 rule from then.",
                  f"キオスク端末のルール: {resets.RULE_2025_FROM.isoformat()}より前は2024年のルール、"
                  "以後は2025年のルール。"), resets.CUT_OVER_SOURCE),
        Fact(Text("An expired certificate is not fixed by a PIN reset: it is re-issued at the "
                  "window.",
                  "電子証明書の有効期限切れは暗証番号の再設定では直らず、窓口で再発行します。"),
             seeds("004")),
    ]  # fmt: skip


def _join(lang: str, items: list[str]) -> str:
    return pick(lang, ", ", "、").join(items)


@app.command(
    help=h(
        "The four PINs: tries, what locks them, where to reset and where to change them — from "
        "the rule data the card enforces, each fact with its seed page.",
        "4つの暗証番号: 回数、ロックの条件、再設定と変更の場所。カードが守るルールのデータから表示し、"
        "各項目に出典の資料を示します。",
    )
)
def rules(
    lang: LangOption = None,
    as_json: JsonOption = False,
    on: Annotated[
        str | None,
        typer.Option("--date", help=h("Rules in force on YYYY-MM-DD (default today).",
                                      "YYYY-MM-DD時点のルール(既定: 今日)。")),
    ] = None,
) -> None:  # fmt: skip
    """The four PINs and the ways to reset and change them (``--json`` for scripts)."""
    from card_emulator.teaching import reset as resets
    from card_emulator.teaching.changes import CHANGE_PLACES, places_for
    from card_emulator.teaching.explain import pin_name
    from card_emulator.teaching.render import Style, bullets, dots, styled, table, to_json

    language = lang_of(lang)
    day = when(on, "--date").date()
    if as_json:
        typer.echo(to_json(rules_data(day)))
        return
    rule = resets.kiosk_rule_on(day)
    kiosk = resets.KIOSK_PINS[rule]
    pins_rows = []
    where_rows = []
    for pin in USER_PINS:
        spec = PIN_SPECS[pin]
        name = f"{pin_name(pin, language)}\n--pin {pin.value}"
        tries = f"{dots(spec.max_tries, spec.max_tries)}\n{spec.max_tries}"
        fmt = spec.format.description_ja if language == Lang.JA else spec.format.description_en
        purpose = spec.purpose_ja if language == Lang.JA else spec.purpose_en
        pins_rows.append([name, tries, fmt, purpose])
        reset_at = [pick(language, "window", "窓口")]
        if pin in kiosk:
            other = SHORT_PIN[kiosk[pin]](language)
            reset_at.append(pick(language, f"kiosk (needs the {other} PIN)",
                                 f"キオスク端末({other}の暗証番号が必要)"))  # fmt: skip
        change_at = [place.name(language).split(":")[0].split("(")[0].strip()
                     for place in places_for(pin)]  # fmt: skip
        where_rows.append([SHORT_PIN[pin](language), "\n".join(reset_at), "\n".join(change_at)])
    echo(
        table(
            [pick(language, "PIN", "暗証番号"), pick(language, "Tries", "回数"),
             pick(language, "Format", "形式"), pick(language, "Used for", "用途")],
            pins_rows, title=pick(language, "The four PINs [seed 004]", "4つの暗証番号 [資料004]"),
        ),
        styled(pick(language, "Each ● is one try. That many wrong entries in a row lock the PIN.",
                    "●は残りの回数です。その回数だけ続けて間違えるとロックされます。")),
        "",
        table(
            [pick(language, "PIN", "暗証番号"),
             pick(language, "Reset (forgotten or locked)", "再設定(忘れた・ロック)"),
             pick(language, "Change (current PIN known)", "変更(現在の暗証番号が分かる)")],
            where_rows,
            title=pick(language, "Where [seeds 000, 002, 003, 004]",
                       "手続きの場所 [資料000, 002, 003, 004]"),
        ),
        "",
    )  # fmt: skip
    channel_rows = [
        [resets.CHANNEL_NAMES[ch](language), _join(language, [SHORT_PIN[p](language) for p in ps]),
         f"{text(language)}\n[{source.label(language)}]"]
        for ch, ps, text, source in resets.reset_channels(day)
    ]  # fmt: skip
    change_rows = [
        [place.name(language), _join(language, [SHORT_PIN[p](language) for p in place.pins]),
         f"{place.needs(language)}\n[{place.source.label(language)}]"]
        for place in CHANGE_PLACES
    ]  # fmt: skip
    echo(
        table([pick(language, "Reset at", "再設定の場所"), pick(language, "PINs", "暗証番号"),
               pick(language, "Conditions", "条件")], channel_rows,
              title=pick(language, f"Resets on {day.isoformat()} ({rule.value} rule)",
                         f"{day.isoformat()}時点の再設定({rule.value}年のルール)")),
        "",
        table([pick(language, "Change at", "変更の場所"), pick(language, "PINs", "暗証番号"),
               pick(language, "Needs", "必要なもの")], change_rows,
              title=pick(language, "Changes", "変更")),
        "",
        styled(pick(language, "Rules", "ルール"), Style.BOLD),
        bullets([fact(language) for fact in rules_notes()]),
    )  # fmt: skip
