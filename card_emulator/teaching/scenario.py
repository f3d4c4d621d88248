"""Scenarios: events over days and services, to replay on a real card (``teaching.timeline``).

A scenario file (TOML, or JSON with the same keys) names a card and a list of events::

    title = "Three wrong entries at three services lock the PIN"
    title_ja = "3つのサービスで3回間違えるとロック"
    source = "pin-rules.md §2; seed 004"
    start = "2025-06-02T09:00"          # day 0; a time without a zone is Japan time

    [card]                               # Card.create arguments (in-memory card)
    seed = 1
    variant = "standard"                 # standard | under15 | expired
    issued = "2025-04-01"

    [[events]]
    day = 0                              # days after ``start`` (or ``at = "2025-06-02T10:00"``)
    time = "10:00"
    place = "マイナポータル"
    action = "verify"                    # verify | query | change | reset | reserve | power_cycle
    pin = "user_auth"                    # signing | user_auth | resident_registry | text_input_helper
    value = "wrong"                      # "correct" | "wrong" | a literal TEST value
    expect = "63C2"                      # a status word, or "done" / "refused" for reset/reserve

    [expect.user_auth]                   # the counters after the last event
    remaining = 0
    locked = true

``change`` takes ``value`` (the current PIN, verified first unless ``verify_first = false``) and
``new_value`` ("new" or a literal). ``reset`` takes ``via`` (window | kiosk), ``applicant``,
``new_value``, ``other`` (kiosk: the other JPKI PIN, "correct" | "wrong" | "unknown"), and the window
facts ``mail_forwarded``, ``reply_complete``, ``reply_pin_hidden``; ``expect_refusals`` lists refusal
codes, ``expect_visits`` the visits of the plan. ``reserve`` is kiosk step 1 in the smartphone app.
Every counter of every user PIN is read after each event (``card.issuer.pin_status``). PIN names
are the canonical ``PinName`` values; the aliases of ``card_emulator.pin_names`` (``user-auth``,
``resident``, ...) are read too.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, get_args

from card_emulator.rules import PinName
from card_emulator.teaching import reset as resets
from card_emulator.teaching.i18n import Text

CardVariant = Literal["standard", "under15", "expired"]  # Card.create(variant=...)


class ScenarioError(ValueError):
    """A scenario file that cannot be read or run; the message names the event."""


class Action(StrEnum):
    """What a scenario event does with the card (docs: ``mynacard simulate --help``, the scenario
    files)."""

    VERIFY = "verify"
    QUERY = "query"
    CHANGE = "change"
    RESET = "reset"
    RESERVE = "reserve"  # kiosk step 1: the smartphone app verifies the other JPKI PIN
    POWER_CYCLE = "power_cycle"


_PIN_ACTIONS = frozenset({Action.VERIFY, Action.QUERY, Action.CHANGE, Action.RESET, Action.RESERVE})
_EVENT_KEYS = frozenset({
    "day", "time", "at", "place", "service", "action", "pin", "value", "new_value", "verify_first",
    "via", "applicant", "other", "mail_forwarded", "reply_complete", "reply_pin_hidden",
    "certificate_expired", "expect", "expect_refusals", "expect_visits", "note",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Event:
    """One step of a scenario: when, where, what (``action`` on ``pin``), with which value —
    ``correct``, ``wrong`` or a literal, never printed — and for resets the channel and applicant
    (pin-rules.md §3–§5)."""

    index: int  # 1-based, as shown in the timeline
    at: datetime
    place: str
    action: Action
    pin: PinName | None = None
    value: str | None = None  # "correct", "wrong" or a literal; never printed
    new_value: str | None = None  # "new" or a literal; never printed
    verify_first: bool = True
    via: resets.Channel | None = None
    applicant: resets.Applicant = resets.Applicant.HOLDER
    other: str | None = None  # kiosk: "correct", "wrong", "unknown" or a literal
    mail_forwarded: bool = False
    reply_complete: bool = True
    reply_pin_hidden: bool = True
    certificate_expired: bool = False
    expect: str | None = None
    expect_refusals: tuple[resets.RefusalCode, ...] = ()
    expect_visits: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class FinalExpectation:
    """What a scenario expects of one PIN at its end: tries left and/or locked (None: not checked)."""

    pin: PinName
    remaining: int | None
    locked: bool | None


@dataclass(frozen=True, slots=True)
class Scenario:
    """A classic case as data: title, source (seed pages), start time, events, the card it runs on,
    what must hold at the end. Loaded by ``load_scenario`` (ScenarioError for a bad file)."""

    title: Text
    source: str
    start: datetime
    events: tuple[Event, ...]
    card_seed: int = 0
    card_variant: CardVariant = "standard"
    card_issued: date | None = None
    expect_final: tuple[FinalExpectation, ...] = ()
    name: str = ""


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


def _datetime(value: Any, where: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ScenarioError(f"{where}: {value!r} is not an ISO date or date-time") from None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time(9, 0))
    raise ScenarioError(f"{where}: expected a date-time, got {value!r}")


def _time(value: Any, where: str) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ScenarioError(f'{where}: expected a time like "10:30", got {value!r}')


def _bool(raw: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ScenarioError(f"{where}: {key} must be true or false")
    return value


def _optional_str(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        raise ScenarioError(f'{where}: write {key} as a string ("{value}"), leading zeros count')
    if not isinstance(value, str):
        raise ScenarioError(f"{where}: {key} must be a string")
    return value


def _event(raw: Any, index: int, start: datetime) -> Event:
    where = f"event {index}"
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where}: must be a table")
    unknown = set(raw) - _EVENT_KEYS
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    try:
        action = Action(str(raw.get("action", "")).replace("-", "_"))
    except ValueError:
        choices = ", ".join(a.value for a in Action)
        raise ScenarioError(f"{where}: action must be one of {choices}") from None
    if "at" in raw:
        at = _datetime(raw["at"], where)
    else:
        day = raw.get("day", 0)
        if not isinstance(day, int) or isinstance(day, bool) or day < 0:
            raise ScenarioError(
                f"{where}: day must be a whole number of days after start (0 or more)"
            )
        at = datetime.combine(start.date() + timedelta(days=day), start.time())
        if "time" in raw:
            at = datetime.combine(at.date(), _time(raw["time"], where))
    pin: PinName | None = None
    if action in _PIN_ACTIONS:
        if "pin" not in raw:
            raise ScenarioError(f"{where}: {action.value} needs a pin")
        try:
            pin = resets.parse_pin(str(raw["pin"]))
        except ValueError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
    via: resets.Channel | None = None
    if action == Action.RESET:
        try:
            via = resets.Channel(str(raw.get("via", "window")))
        except ValueError:
            raise ScenarioError(f"{where}: via must be window or kiosk") from None
    try:
        applicant = resets.Applicant(str(raw.get("applicant", "holder")).replace("_", "-"))
    except ValueError:
        choices = ", ".join(a.value for a in resets.Applicant)
        raise ScenarioError(f"{where}: applicant must be one of {choices}") from None
    expect_refusals_raw = raw.get("expect_refusals", [])
    if isinstance(expect_refusals_raw, str):
        expect_refusals_raw = [expect_refusals_raw]
    try:
        expect_refusals = tuple(resets.RefusalCode(str(c)) for c in expect_refusals_raw)
    except ValueError:
        choices = ", ".join(c.value for c in resets.RefusalCode)
        raise ScenarioError(f"{where}: expect_refusals takes codes among {choices}") from None
    verify_first = _bool(raw, "verify_first", True, where)
    value = _optional_str(raw, "value", where)
    if action in (Action.VERIFY, Action.CHANGE) and value is None:
        value = "correct"
    if action == Action.CHANGE and not verify_first:
        value = None
    other = _optional_str(raw, "other", where)
    if action == Action.RESERVE or (action == Action.RESET and via == resets.Channel.KIOSK):
        other = other or "correct"
    new_value = _optional_str(raw, "new_value", where)
    if action in (Action.CHANGE, Action.RESET):
        new_value = new_value or "new"
    expect = _optional_str(raw, "expect", where)
    visits = raw.get("expect_visits")
    if visits is not None and (not isinstance(visits, int) or isinstance(visits, bool)):
        raise ScenarioError(f"{where}: expect_visits must be a number")
    return Event(
        index=index,
        at=at,
        place=str(raw.get("place", raw.get("service", ""))),
        action=action,
        pin=pin,
        value=value,
        new_value=new_value,
        verify_first=verify_first,
        via=via,
        applicant=applicant,
        other=other,
        mail_forwarded=_bool(raw, "mail_forwarded", False, where),
        reply_complete=_bool(raw, "reply_complete", True, where),
        reply_pin_hidden=_bool(raw, "reply_pin_hidden", True, where),
        certificate_expired=_bool(raw, "certificate_expired", False, where),
        expect=expect.upper() if expect and len(expect) == 4 else expect,
        expect_refusals=expect_refusals,
        expect_visits=visits,
        note=str(raw.get("note", "")),
    )


def parse_scenario(data: Mapping[str, Any], name: str = "") -> Scenario:
    """A scenario from its decoded TOML/JSON table; ScenarioError names what is wrong."""
    if "start" not in data:
        raise ScenarioError('a scenario needs a start date-time (start = "2025-06-02T09:00")')
    start = _datetime(data["start"], "start")
    raw_events = data.get("events", data.get("event"))
    if not isinstance(raw_events, list) or not raw_events:
        raise ScenarioError("a scenario needs at least one [[events]] table")
    events = tuple(_event(raw, i, start) for i, raw in enumerate(raw_events, 1))
    card = data.get("card", {})
    if not isinstance(card, Mapping):
        raise ScenarioError("[card] must be a table")
    seed = card.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ScenarioError("card.seed must be a whole number from 0")
    variant = card.get("variant", "standard")
    if variant not in get_args(CardVariant):
        raise ScenarioError(f"card.variant must be one of {', '.join(get_args(CardVariant))}")
    issued_raw = card.get("issued")
    issued = None if issued_raw is None else _datetime(issued_raw, "card.issued").date()
    finals: list[FinalExpectation] = []
    expect = data.get("expect", {})
    if not isinstance(expect, Mapping):
        raise ScenarioError("[expect] must be a table of PINs")
    for key, value in expect.items():
        try:
            pin = resets.parse_pin(str(key))
        except ValueError as exc:
            raise ScenarioError(f"expect: {exc}") from None
        if not isinstance(value, Mapping):
            raise ScenarioError(f"expect.{key} must be a table (remaining = …, locked = …)")
        remaining, locked = value.get("remaining"), value.get("locked")
        finals.append(FinalExpectation(pin, remaining, locked))
    title = str(data.get("title", name))
    return Scenario(
        title=Text(title, str(data.get("title_ja", title))),
        source=str(data.get("source", "")),
        start=start,
        events=events,
        card_seed=seed,
        card_variant=variant,
        card_issued=issued,
        expect_final=tuple(finals),
        name=name,
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read a ``.toml`` or ``.json`` scenario file (any other name is read as TOML).

    ScenarioError, one line, for a file that cannot be read, is not UTF-8 text or is not valid
    TOML/JSON ("not a scenario"), or whose content is not a scenario.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(
            f"{path}: not a scenario (not UTF-8 text: a scenario is a TOML or JSON file)"
        ) from None
    if "\x00" in text:
        raise ScenarioError(f"{path}: not a scenario (a binary file: a scenario is TOML or JSON)")
    is_json = path.suffix.lower() == ".json"
    try:
        data = json.loads(text) if is_json else tomllib.loads(text)
    except ValueError as exc:
        kind = "JSON" if is_json else "TOML"
        raise ScenarioError(f"{path.name}: not a scenario ({kind}: {exc})") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path.name}: the top level must be a table")
    return parse_scenario(data, path.stem)


PACKAGED = Path(__file__).resolve().parent / "scenarios"  # package data: the classic scenarios


def example_scenarios(directory: str | Path = PACKAGED) -> list[Path]:
    """The scenario files of a directory (default: the packaged classics), sorted."""
    folder = Path(directory)
    return sorted([*folder.glob("*.toml"), *folder.glob("*.json")])


def find_scenario(name: str) -> Path:
    """A scenario file by path, or a packaged one by number or name prefix (``01``, ``01_three``).

    ScenarioError when nothing or more than one packaged scenario matches.
    """
    path = Path(name)
    if path.suffix.lower() in (".toml", ".json") or path.exists():
        return path
    matches = [p for p in example_scenarios() if p.stem.startswith(name) or p.stem == name]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(p.stem.split("_", 1)[0] for p in example_scenarios())
    if not matches:
        raise ScenarioError(f"no scenario {name!r}: give a file, or one of {names} (--list)")
    raise ScenarioError(
        f"{name!r} matches {len(matches)} scenarios: {', '.join(p.stem for p in matches)}"
    )


# The places the packaged scenarios name, in both languages; other places are shown as written.
PLACE_NAMES: dict[str, Text] = {
    "JPKI利用者ソフト": Text("JPKI user software", "JPKI利用者ソフト"),
    "another reader": Text("another reader", "別のカードリーダー"),
    "e-Tax": Text("e-Tax", "e-Tax"),
    "アプリ (券面入力補助)": Text("form-filling app", "アプリ(券面入力補助)"),
    "コンビニ (証明書交付)": Text("convenience store (certificates)", "コンビニ(証明書交付)"),
    "コンビニ キオスク端末 (step 2)": Text("convenience-store kiosk (step 2)", "コンビニのキオスク端末(ステップ2)"),
    "コンビニ キオスク端末": Text("convenience-store kiosk", "コンビニのキオスク端末"),
    "スマートフォンアプリ (step 1)": Text("smartphone app (step 1)", "スマートフォンアプリ(ステップ1)"),
    "マイナポータル": Text("マイナポータル (Mynaportal)", "マイナポータル"),
    "医療機関 (clinic)": Text("clinic", "医療機関"),
    "市役所 (住所変更)": Text("city hall (moving house)", "市役所(住所変更)"),
    "市役所窓口": Text("municipal window", "市役所窓口"),
}  # fmt: skip


def place_text(place: str) -> Text:
    """A scenario's place in both languages (as written when the table does not know it)."""
    return PLACE_NAMES.get(place, Text(place, place))


def source_text(source: str) -> Text:
    """A scenario's ``source`` line in both languages ("seed 004" → "資料004")."""
    ja = source.replace("seeds ", "資料").replace("seed ", "資料")
    ja = re.sub(r" ?\(also ([^)]*)\)", r"(\1にも記載)", ja)  # "seed 002 (also 000)"
    return Text(source, ja)
