"""Scenarios: events over days and services, replayed on a real card through APDUs.

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
    pin = "user-auth"                    # signing | user-auth | resident | text
    value = "wrong"                      # "correct" | "wrong" | a literal TEST value
    expect = "63C2"                      # a status word, or "done" / "refused" for reset/reserve

    [expect.user-auth]                   # the counters after the last event
    remaining = 0
    locked = true

``change`` takes ``value`` (the current PIN, verified first unless ``verify_first = false``) and
``new_value`` ("new" or a literal). ``reset`` takes ``via`` (window | kiosk), ``applicant``,
``new_value``, ``other`` (kiosk: the other JPKI PIN, "correct" | "wrong" | "unknown"), and the window
facts ``mail_forwarded``, ``reply_complete``, ``reply_pin_hidden``; ``expect_refusals`` lists refusal
codes, ``expect_visits`` the visits of the plan. ``reserve`` is kiosk step 1 in the smartphone app.
Every counter of every user PIN is read after each event (``card.issuer.pin_status``).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from card_emulator.pin import PinStatus
from card_emulator.rules import PIN_SPECS, USER_PINS, PinName
from card_emulator.teaching import reset as resets
from card_emulator.teaching.explain import ExchangeLike, explain_status_word, tries_phrase
from card_emulator.teaching.i18n import Text

if TYPE_CHECKING:
    from card_emulator.card import Card


CardVariant = Literal["standard", "under15", "expired"]  # Card.create(variant=...)


class ScenarioError(ValueError):
    """A scenario file that cannot be read or run; the message names the event."""


class Action(StrEnum):
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
    pin: PinName
    remaining: int | None
    locked: bool | None


@dataclass(frozen=True, slots=True)
class Scenario:
    title: Text
    source: str
    start: datetime
    events: tuple[Event, ...]
    card_seed: int = 0
    card_variant: CardVariant = "standard"
    card_issued: date | None = None
    expect_final: tuple[FinalExpectation, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    event: Event
    sw: int | None  # the card's last answer in this event, if it sent APDUs
    done: bool | None  # reset/reserve: carried out or refused
    outcome: Text
    refusals: tuple[resets.Refusal, ...] = ()
    counters: tuple[PinStatus, ...] = ()  # every user PIN on the card, read after the event
    visits: int | None = None
    failures: tuple[str, ...] = ()
    exchanges: tuple[ExchangeLike, ...] = field(default=(), repr=False, compare=False)

    def counter(self, pin: PinName) -> PinStatus | None:
        return next((c for c in self.counters if c.pin == pin), None)

    def to_dict(self) -> dict[str, Any]:
        """For ``--json``: no PIN value and no raw command is included."""
        e = self.event
        return {
            "index": e.index,
            "at": e.at.isoformat(),
            "place": e.place,
            "action": e.action.value,
            "pin": e.pin.value if e.pin else None,
            "sw": f"{self.sw:04X}" if self.sw is not None else None,
            "done": self.done,
            "outcome": self.outcome.as_dict(),
            "refusals": [
                {"code": r.code.value, "source": r.source, **r.text.as_dict()}
                for r in self.refusals
            ],
            "visits": self.visits,
            "counters": {
                c.pin.value: {"remaining": c.remaining, "max": c.max_tries, "locked": c.locked}
                for c in self.counters
            },
            "failures": list(self.failures),
        }


@dataclass(frozen=True, slots=True)
class Timeline:
    scenario: Scenario
    entries: tuple[TimelineEntry, ...]
    final_failures: tuple[str, ...]

    @property
    def failures(self) -> tuple[str, ...]:
        out: list[str] = []
        for entry in self.entries:
            out += [f"event {entry.event.index}: {f}" for f in entry.failures]
        return (*out, *self.final_failures)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "title": self.scenario.title.as_dict(),
            "source": self.scenario.source,
            "entries": [e.to_dict() for e in self.entries],
            "expectations_met": self.ok,
            "failures": list(self.failures),
        }


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
        if not isinstance(day, int) or isinstance(day, bool):
            raise ScenarioError(f"{where}: day must be a whole number of days after start")
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
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ScenarioError("card.seed must be a number")
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
    """Read a ``.toml`` or ``.json`` scenario file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path.name}: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path.name}: the top level must be a table")
    return parse_scenario(data, path.stem)


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------

# TEST values used when a scenario says "new": distinct, valid, synthetic.
_NEW_FOUR = ("4826", "7391", "5064", "2718", "9153")
_NEW_SIGNING = ("NEWPASS1", "TEST2025", "RESET7X", "KIOSK9Y", "WINDOW3Z")


def _is_long(pin: PinName) -> bool:
    return PIN_SPECS[pin].format.max_length > 4  # the signing password, not 4 digits


def _new_values(pin: PinName) -> tuple[str, ...]:
    return _NEW_SIGNING if _is_long(pin) else _NEW_FOUR


class _Values:
    """The PIN values the holder knows, as the scenario goes; never printed."""

    def __init__(self, known: Mapping[PinName, str]) -> None:
        self.known = dict(known)
        self._fresh = 0

    def correct(self, pin: PinName, where: str) -> str:
        if pin not in self.known:
            raise ScenarioError(f"{where}: the {PIN_SPECS[pin].name_en} of this card is unknown")
        return self.known[pin]

    def wrong(self, pin: PinName, where: str) -> str:
        right = self.correct(pin, where)
        wrong = ("WRONG123", "MISTAKE9") if _is_long(pin) else ("0000", "9999")
        return next(v for v in (*wrong, *_new_values(pin)) if v != right)

    def new(self, pin: PinName) -> str:
        pool = _new_values(pin)
        current = self.known.get(pin)
        while True:
            value = pool[self._fresh % len(pool)]
            self._fresh += 1
            if value != current:
                return value

    def resolve(self, pin: PinName, spec: str | None, where: str) -> str | None:
        if spec is None or spec == "unknown":
            return None
        if spec == "correct":
            return self.correct(pin, where)
        if spec == "wrong":
            return self.wrong(pin, where)
        if spec == "new":
            return self.new(pin)
        return spec


def _counters(card: Card) -> tuple[PinStatus, ...]:
    present = set(card.issuer.pins())
    return tuple(card.issuer.pin_status(pin) for pin in USER_PINS if pin in present)


def _pin_outcome(action: Action, answer: resets.PinAnswer) -> Text:
    sw, left = answer.sw, answer.tries_left
    if answer.step in ("select_app", "select_ef"):
        return Text(
            f"not on this card: {explain_status_word(sw, 'en')}",
            f"このカードにはありません: {explain_status_word(sw, 'ja')}",
        )
    if action == Action.QUERY and left is not None:
        if left == 0:
            return Text(
                "asked: locked (63C0), nothing spent", "問い合わせ: ロック中(63C0)、消費なし"
            )
        return Text(
            f"asked: {tries_phrase(left)} left, nothing spent",
            f"問い合わせ: 残り{left}回、消費なし",
        )
    if answer.step == "verify" and action == Action.CHANGE and not answer.ok:
        prefix = Text("change refused, current PIN ", "変更不可、現在の暗証番号が")
    else:
        prefix = Text("", "")
    if sw == 0x9000:
        if answer.step == "change":
            return Text("changed: new value, full tries", "変更完了: 新しい値、回数は最大")
        return Text("accepted: counter back to its maximum", "一致: 残り回数は最大に戻る")
    if left is not None:
        if left == 0:
            body = Text("wrong: the PIN is now locked (63C0)", "不一致: これでロック(63C0)")
        else:
            body = Text(f"wrong: {tries_phrase(left)} left", f"不一致: 残り{left}回")
        return Text(prefix.en + body.en, prefix.ja + body.ja)
    if sw == 0x6984:
        if action == Action.CHANGE:
            return Text(
                "change refused: the PIN is locked, even the correct current value (6984)",
                "変更不可: ロック中のため、正しい現在の暗証番号でも拒否(6984)",
            )
        return Text(
            "refused: locked, even the correct value (6984)",
            "拒否: ロック中、正しい値でも不可(6984)",
        )
    if sw == 0x6982:
        return Text(
            "refused: VERIFY the current PIN first (6982)",
            "拒否: 先に現在の暗証番号の照合が必要(6982)",
        )
    if sw == 0x6A80:
        return Text(
            "refused: the new value breaks the format (6A80); the old PIN stays",
            "拒否: 新しい値が形式に合わない(6A80)、元の暗証番号のまま",
        )
    return Text(explain_status_word(sw, "en"), explain_status_word(sw, "ja"))


def _reset_outcome(action: Action, outcome: resets.ResetOutcome) -> Text:
    if outcome.done:
        if action == Action.RESERVE:
            return Text("reservation made in the app (valid 24 h)", "アプリで予約完了(24時間有効)")
        return Text(
            "reset: new value, full tries, unlocked", "再設定完了: 新しい値、回数は最大、ロック解除"
        )
    first = outcome.refusals[0].text if outcome.refusals else Text("refused", "不可")
    return Text("refused: " + first.en, "不可: " + first.ja)


def _check(entry: TimelineEntry) -> tuple[str, ...]:
    """How the entry differs from what its event expects."""
    event, sw, done, visits = entry.event, entry.sw, entry.done, entry.visits
    failures: list[str] = []
    if event.expect is not None:
        want = event.expect.lower()
        if want in ("done", "refused"):
            got = "none" if done is None else ("done" if done else "refused")
            if got != want:
                failures.append(f"expected {want}, got {got}")
        else:
            got_sw = "none" if sw is None else f"{sw:04X}"
            if got_sw != event.expect.upper():
                failures.append(f"expected {event.expect.upper()}, the card answered {got_sw}")
    codes = {r.code for r in entry.refusals}
    for code in event.expect_refusals:
        if code not in codes:
            got_codes = ", ".join(sorted(c.value for c in codes)) or "none"
            failures.append(f"expected refusal {code.value}, got {got_codes}")
    if event.expect_visits is not None and visits != event.expect_visits:
        failures.append(f"expected {event.expect_visits} visit(s), the plan has {visits}")
    return tuple(failures)


def new_card(scenario: Scenario) -> Card:
    """The in-memory TEST card a scenario asks for."""
    from card_emulator import Card  # the card is heavy to import: only when a scenario runs

    return Card.create(
        None, seed=scenario.card_seed, issued=scenario.card_issued, variant=scenario.card_variant
    )


def run_scenario(
    scenario: Scenario,
    card: Card | None = None,
    *,
    known_pins: Mapping[PinName, str] | None = None,
    on_entry: Callable[[TimelineEntry], None] | None = None,
) -> Timeline:
    """Replay ``scenario`` on ``card`` (a new in-memory card if None) and read every counter.

    ``known_pins``: the values the holder knows for "correct"; default ``card.created_pins``.
    """
    if card is None:
        card = new_card(scenario)
    values = _Values(known_pins if known_pins is not None else (card.created_pins or {}))
    reservations: dict[PinName, datetime] = {}
    entries: list[TimelineEntry] = []
    for event in scenario.events:
        captured: list[ExchangeLike] = []
        card.add_observer(captured.append)
        try:
            entry = _run_event(card, event, values, reservations)
        finally:
            card.remove_observer(captured.append)
        entry = replace(
            entry, counters=_counters(card), failures=_check(entry), exchanges=tuple(captured)
        )
        entries.append(entry)
        if on_entry is not None:
            on_entry(entry)
    final_failures: list[str] = []
    last = entries[-1]
    for want in scenario.expect_final:
        counter = last.counter(want.pin)
        name = PIN_SPECS[want.pin].name_en
        if counter is None:
            final_failures.append(f"final: this card has no {name}")
            continue
        if want.remaining is not None and counter.remaining != want.remaining:
            final_failures.append(
                f"final: {name} expected {want.remaining} tries left, has {counter.remaining}"
            )
        if want.locked is not None and counter.locked != want.locked:
            state = "locked" if want.locked else "not locked"
            final_failures.append(f"final: {name} expected {state}")
    return Timeline(scenario, tuple(entries), tuple(final_failures))


def _run_event(
    card: Card, event: Event, values: _Values, reservations: dict[PinName, datetime]
) -> TimelineEntry:
    """Carry out one event; the counters and the checks are added by ``run_scenario``."""
    where = f"event {event.index}"
    if event.action == Action.POWER_CYCLE:
        card.power_off()
        card.power_on()
        text = Text(
            "power off and on: verified states cleared, counters unchanged",
            "電源の切断と投入: 照合済み状態は消え、残り回数は変わらない",
        )
        return TimelineEntry(event, None, None, text)
    pin = event.pin
    assert pin is not None
    if event.action in (Action.QUERY, Action.VERIFY, Action.CHANGE):
        answer = _pin_operation(card, event, pin, values, where)
        return TimelineEntry(event, answer.sw, None, _pin_outcome(event.action, answer))
    other_pin = resets.KIOSK_PINS[resets.kiosk_rule_on(event.at.date())].get(pin)
    other_value = values.resolve(other_pin, event.other, where) if other_pin is not None else None
    visits: int | None = None
    if event.action == Action.RESERVE:
        outcome = resets.reserve_kiosk(card, pin, other_value, event.at)
        if outcome.done:
            reservations[pin] = event.at
    else:
        request = resets.ResetRequest(
            pin,
            event.via or resets.Channel.WINDOW,
            event.at,
            applicant=event.applicant,
            reserved_at=reservations.get(pin),
            certificate_expired=event.certificate_expired,
            mail_forwarded=event.mail_forwarded,
            reply_complete=event.reply_complete,
            reply_pin_hidden=event.reply_pin_hidden,
        )
        new = values.resolve(pin, event.new_value, where) or ""
        outcome = resets.reset_pin(card, request, new, other_value=other_value)
        if outcome.done:
            values.known[pin] = new
            reservations.pop(pin, None)  # a reservation is used once
        visits = outcome.plan.visits if outcome.plan else None
    text = _reset_outcome(event.action, outcome)
    return TimelineEntry(
        event, outcome.verify_sw, outcome.done, text, outcome.refusals, visits=visits
    )


def _pin_operation(
    card: Card, event: Event, pin: PinName, values: _Values, where: str
) -> resets.PinAnswer:
    """The APDUs of a query, verify or change event; a changed value becomes the known one."""
    if event.action == Action.QUERY:
        return resets.query_pin(card, pin)
    if event.action == Action.VERIFY:
        return resets.verify_pin(card, pin, values.resolve(pin, event.value, where) or "")
    new = values.resolve(pin, event.new_value, where) or ""
    if event.value is None:
        answer = resets.change_without_verify(card, pin, new)
    else:
        current = values.resolve(pin, event.value, where) or ""
        answer = resets.change_pin(card, pin, current, new)
    if answer.ok and answer.step == "change":
        values.known[pin] = new
    return answer


def example_scenarios(directory: str | Path) -> list[Path]:
    """The scenario files of a directory, sorted."""
    folder = Path(directory)
    return sorted([*folder.glob("*.toml"), *folder.glob("*.json")])
