"""``mynacard simulate``: a scenario of PIN events over days and services, replayed on a card.

The classic scenarios ship with the package (``card_emulator/teaching/scenarios``):
``mynacard simulate --list``, ``mynacard simulate 01``; any ``.toml``/``.json`` file runs too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from card_emulator.cli.app import app
from card_emulator.cli.progress import progress
from card_emulator.cli.teach_util import (
    SHORT_PIN,
    ExplainOption,
    JsonOption,
    LangOption,
    echo,
    fail,
    h,
    lang_of,
    open_card,
    print_explained,
)
from card_emulator.pin_names import parse_pin_name
from card_emulator.rules import USER_PINS, PinName
from card_emulator.teaching.i18n import Lang, Text, pick

# The scenario machinery and rich are imported where they are used (start-up: cli/app.py).
if TYPE_CHECKING:
    from card_emulator.teaching.timeline import Timeline, TimelineEntry

ACTION_NAMES: dict[str, Text] = {
    "verify": Text("verify", "照合"),
    "query": Text("query", "残り回数の確認"),
    "change": Text("change", "変更"),
    "reset": Text("reset", "再設定"),
    "reserve": Text("reserve", "予約"),
    "power_cycle": Text("power cycle", "電源再投入"),
    "window": Text("window", "窓口"),
    "kiosk": Text("kiosk", "キオスク端末"),
}


def _counters(entry: TimelineEntry, pins: list[PinName], lang: str) -> str:
    from card_emulator.teaching.render import dots

    lines = []
    for pin in pins:
        counter = entry.counter(pin)
        if counter is None:
            continue
        state = pick(lang, " locked", " ロック") if counter.locked else ""
        lines.append(f"{SHORT_PIN[pin](lang)} {dots(counter.remaining, counter.max_tries)} "
                     f"{counter.remaining}/{counter.max_tries}{state}")  # fmt: skip
    return "\n".join(lines)


def print_timeline(timeline: Timeline, lang: Lang, explain: bool) -> None:
    """The timeline as a table that fits the terminal; refusals and expectations after it."""
    from card_emulator.teaching.render import Style, styled, table
    from card_emulator.teaching.scenario import place_text, source_text

    scenario = timeline.scenario
    lines: list[Any] = [styled(scenario.title(lang), Style.BOLD)]
    if scenario.source:
        lines.append(pick(lang, "Source: ", "出典: ") + source_text(scenario.source)(lang))
    pins = [p for p in USER_PINS if any(e.event.pin == p for e in timeline.entries)] or [
        p for p in USER_PINS if any(e.counter(p) for e in timeline.entries)
    ]
    rows = []
    for entry in timeline.entries:
        e = entry.event
        what = ACTION_NAMES[e.action.value](lang)
        if e.via:
            what += f" ({ACTION_NAMES[e.via.value](lang)})"
        if e.pin in SHORT_PIN:
            what += f"\n{SHORT_PIN[e.pin](lang)}"
        outcome: Any = entry.outcome(lang)
        if entry.failures:
            outcome = styled(outcome + "\n✗ " + "; ".join(entry.failures), Style.ERROR)
        rows.append([str(e.index), f"{e.at:%m-%d}\n{e.at:%H:%M}",
                     f"{place_text(e.place)(lang)}\n{what}",
                     f"{entry.sw:04X}" if entry.sw is not None else "", outcome,
                     _counters(entry, pins, lang)])  # fmt: skip
    headers = ["#", pick(lang, "When", "日時"), pick(lang, "Where, what", "場所・操作"),
               "SW", pick(lang, "Outcome", "結果"), pick(lang, "Tries left", "残り回数")]  # fmt: skip
    lines.append(table(headers, rows, no_wrap=(0, 1, 3)))
    for entry in timeline.entries:
        if len(entry.refusals) > 1 or (entry.refusals and explain):
            lines.append(f"#{entry.event.index} " + pick(lang, "refused because:", "不可の理由:"))
            lines += [f"  - {r.text(lang)} [{r.source.label(lang)}]" for r in entry.refusals]
    echo(*lines)
    if explain:
        for entry in timeline.entries:
            if entry.exchanges:
                echo(f"#{entry.event.index} APDU")
                print_explained(list(entry.exchanges), lang)
    if timeline.ok:
        echo(styled(pick(lang, "Every expectation of the scenario is met.",
                         "シナリオの期待どおりの結果です。"), Style.OK))  # fmt: skip
    else:
        echo(styled(pick(lang, "Expectations not met:", "期待と異なる結果:"), Style.ERROR),
             *[f"  - {failure}" for failure in timeline.failures])  # fmt: skip


def _known_pins(raw: str) -> dict[PinName, str]:
    """``MYNACARD_PINS_JSON``: a JSON object of PIN name to value. Errors never quote a value."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise fail(f"MYNACARD_PINS_JSON is not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise fail(
            'MYNACARD_PINS_JSON must be a JSON object of PIN name to string, e.g. {"signing": "..."}'
        )
    try:
        return {parse_pin_name(key): value for key, value in data.items()}
    except ValueError as exc:
        raise fail(f"MYNACARD_PINS_JSON: {exc}") from None


def _print_list(lang: Lang, as_json: bool) -> None:
    from card_emulator.teaching.render import table, to_json
    from card_emulator.teaching.scenario import example_scenarios, load_scenario, source_text

    scenarios = [load_scenario(path) for path in example_scenarios()]
    if as_json:
        typer.echo(to_json([{"name": s.name, "title": s.title.as_dict(), "source": s.source}
                            for s in scenarios]))  # fmt: skip
        return
    rows = [[s.name.split("_", 1)[0], f"{s.title(lang)}\n[{source_text(s.source)(lang)}]"]
            for s in scenarios]  # fmt: skip
    echo(table(["#", pick(lang, "Scenario", "シナリオ")], rows, no_wrap=(0,)),
         pick(lang, "Run one: mynacard simulate 01", "実行: mynacard simulate 01"))  # fmt: skip


@app.command(
    help=h("Replay a scenario of PIN events over days and services on a card, with every counter "
           "after each event. SCENARIO: a number of the classics (--list) or a .toml/.json file.",
           "日付やサービスをまたぐ暗証番号の出来事をカードで再現し、各出来事の後の残り回数を表示します。"
           "SCENARIO: 付属のシナリオの番号(--listで一覧)または .toml/.json ファイル。"),
)  # fmt: skip
def simulate(
    scenario: Annotated[str | None, typer.Argument(
        help=h("01…14 (the classics) or a scenario file.", "01~14(付属)またはシナリオファイル。"),
    )] = None,
    list_them: Annotated[bool, typer.Option("--list", help=h(
        "List the classic scenarios shipped with the package.", "付属のシナリオを一覧表示。"))] = False,
    card_path: Annotated[Path | None, typer.Option("--card", help=h(
        "Replay on this card file (it is changed!) instead of a new in-memory card; \"correct\" "
        "then needs the values in MYNACARD_PINS_JSON.",
        "新しいメモリ上のカードではなくこのカードファイルで再現(変更されます!)。\"correct\"には"
        "MYNACARD_PINS_JSONの値が必要です。"))] = None,
    lang: LangOption = None,
    as_json: JsonOption = False,
    explain: ExplainOption = False,
) -> None:  # fmt: skip
    """Replay a scenario of PIN events over days and services; print every counter after each."""
    from card_emulator.teaching.render import to_json
    from card_emulator.teaching.scenario import ScenarioError, find_scenario, load_scenario
    from card_emulator.teaching.timeline import run_scenario

    language = lang_of(lang)
    if list_them:
        _print_list(language, as_json)
        return
    if scenario is None:
        raise fail("give a scenario (01…14 or a file), or --list")
    try:
        loaded = load_scenario(find_scenario(scenario))
        if card_path is None:
            with progress(f"replaying {loaded.name or scenario} on a new card", quiet=as_json):
                timeline = run_scenario(loaded)
        else:
            known = _known_pins(os.environ.get("MYNACARD_PINS_JSON", "{}"))
            with open_card(card_path) as card:
                timeline = run_scenario(loaded, card, known_pins=known)
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(to_json(timeline.to_dict()))
    else:
        print_timeline(timeline, language, explain)
    if not timeline.ok:
        raise typer.Exit(1)
