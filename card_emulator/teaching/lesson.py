"""A lesson on one practice card: the library behind ``mynacard learn``'s page.

A :class:`Lesson` holds a real :class:`~card_emulator.card.Card` in memory (a synthetic TEST holder,
test keys) and a day counter. Everything the learner does becomes APDUs to that card through
``teaching.pin_ops`` — using a service is a SELECT and a VERIFY, as the service's reader would send
— or an issuer reset through ``teaching.reset``; the card alone counts and locks. The lesson only
keeps the day, the timeline of what happened and the PIN values the learner knows. Every
explanation comes from the same tables as the terminal commands, with its seed page.

Results are JSON-ready dicts; texts are ``{"en": …, "ja": …}`` so the page switches language
without asking again. Not thread-safe on its own: the web server serialises calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from card_emulator.rules import PIN_SPECS, USER_PINS, PinName
from card_emulator.teaching import reset as resets
from card_emulator.teaching.catalogue import (
    LessonError,
    change_places,
    scenario_list,
    scenario_steps,
    seed_pages,
)
from card_emulator.teaching.i18n import Lang, Text, count
from card_emulator.teaching.pin_ops import CLI_PIN_NAME, near_miss, parse_pin
from card_emulator.teaching.sources import Source, seeds
from card_emulator.teaching.status_words import explain_status_word

if TYPE_CHECKING:
    from card_emulator.card import Card

__all__ = [  # the page's catalogue (``teaching.catalogue``) is re-exported, its former home
    "SERVICES",
    "START",
    "Lesson",
    "LessonError",
    "Service",
    "change_places",
    "scenario_list",
    "scenario_steps",
    "seed_pages",
]

START = date(2025, 6, 2)  # day 0 of a lesson: a Monday under the 2025 kiosk rule


@dataclass(frozen=True, slots=True)
class Service:
    """Something a holder does with the card, and the PIN its reader asks for (seed 004's table)."""

    key: str
    name: Text
    pin: PinName
    source: Source


SERVICES: tuple[Service, ...] = (
    Service("mynaportal", Text("log in to マイナポータル (Mynaportal)", "マイナポータルにログイン"),
            PinName.USER_AUTH, seeds("004")),
    Service("konbini", Text("certificates at a convenience store", "コンビニで証明書を取得"),
            PinName.USER_AUTH, seeds("004", "002")),
    Service("clinic", Text("check in at a clinic (health insurance)", "医療機関の受付(健康保険証利用)"),
            PinName.USER_AUTH, seeds("004")),
    Service("etax", Text("file a tax return on e-Tax", "e-Taxで確定申告"),
            PinName.SIGNING, seeds("004", "001")),
    Service("moving", Text("moving house: address change at the window", "転居: 窓口で住所変更"),
            PinName.RESIDENT_REGISTRY, seeds("004")),
    Service("form_app", Text("a form-filling app reads your name and address",
                             "入力補助アプリが氏名・住所を読み取る"),
            PinName.TEXT_INPUT_HELPER, seeds("004")),
)  # fmt: skip
SERVICE_BY_KEY = {service.key: service for service in SERVICES}


# Where a locked PIN is reset (seeds 002, 004): the window always; a kiosk for the JPKI PINs under
# the 2025 rule (for the signing password under the 2024 rule too).
_WHERE_TO_RESET: dict[PinName, Text] = {
    PinName.SIGNING: Text(
        "Only a reset unlocks it: at the municipal window, or at a convenience-store kiosk with the "
        "user-authentication PIN.",
        "ロック解除は再設定のみ: 市区町村の窓口、またはコンビニのキオスク端末(利用者証明用の暗証番号が必要)。",
    ),
    PinName.USER_AUTH: Text(
        "Only a reset unlocks it: at the municipal window, or (2025 rule) at a convenience-store "
        "kiosk with the signing password.",
        "ロック解除は再設定のみ: 市区町村の窓口、または(2025年のルール)コンビニのキオスク端末"
        "(署名用の暗証番号が必要)。",
    ),
    PinName.RESIDENT_REGISTRY: Text(
        "Only a reset unlocks it, at the municipal window.",
        "ロック解除は市区町村の窓口での再設定のみです。",
    ),
}


def _wrong_value(pin: PinName, right: str) -> str:
    for candidate in ("WRONG123", "MISTAKE9") if pin == PinName.SIGNING else ("0000", "9999"):
        if candidate != right:
            return candidate
    raise AssertionError("unreachable")


class Lesson:
    """One learner's practice card, day and timeline (see the module docstring)."""

    def __init__(self, seed: int = 1) -> None:
        from card_emulator import Card

        self.seed = seed
        self.card: Card = Card.create(None, seed=seed, issued=START - timedelta(days=60))
        self.known: dict[PinName, str] = dict(self.card.created_pins or {})
        self.day = 0
        self.timeline: list[dict[str, Any]] = []

    # -- what the page shows -------------------------------------------------------------------

    @property
    def today(self) -> date:
        """The lesson's date: day 0 is START."""
        return START + timedelta(days=self.day)

    def pins(self) -> list[dict[str, Any]]:
        """The four PINs as the card keeps them (issuer view: no APDU, nothing spent)."""
        present = set(self.card.issuer.pins())
        out = []
        for pin in USER_PINS:
            spec = PIN_SPECS[pin]
            status = self.card.issuer.pin_status(pin) if pin in present else None
            out.append({
                "pin": CLI_PIN_NAME[pin],
                "name": {"en": spec.name_en, "ja": spec.name_ja},
                "purpose": {"en": spec.purpose_en, "ja": spec.purpose_ja},
                "format": {"en": spec.format.description_en, "ja": spec.format.description_ja},
                "max": spec.max_tries,
                "remaining": status.remaining if status else None,
                "locked": bool(status and status.locked),
                "services": [s.key for s in SERVICES if s.pin == pin],
                "practice_value": self.known.get(pin),
            })  # fmt: skip
        return out

    def state(self) -> dict[str, Any]:
        """Everything the page draws: day, rule in force, PINs, services, timeline."""
        rule = resets.kiosk_rule_on(self.today)
        return {
            "day": self.day,
            "date": self.today.isoformat(),
            "kiosk_rule": rule.value,
            "pins": self.pins(),
            "services": [
                {"key": s.key, "name": s.name.as_dict(), "pin": CLI_PIN_NAME[s.pin],
                 "source": s.source.as_dict()}
                for s in SERVICES
            ],
            "timeline": self.timeline,
            "test_card": True,
        }  # fmt: skip

    # -- what the learner does -----------------------------------------------------------------

    def advance(self, days: int = 1) -> dict[str, Any]:
        """Move the lesson's date on: nothing on the card changes (seed 004: counts do not reset
        with time)."""
        if not 1 <= days <= 366:
            raise LessonError("days must be 1 to 366")
        self.day += days
        later = count(Lang.EN, days, "day", "days", "日")
        self._log(None, "advance", None, Text(
            f"{later} later: the counters are as they were — time does not reset them",
            f"{days}日後: 残り回数はそのまま。時間がたっても戻りません",
        ), seeds("004"), ok=True)  # fmt: skip
        return self.state()

    def enter(self, pin_name: str, value: str, service: str | None = None) -> dict[str, Any]:
        """The learner types ``value`` for ``pin_name`` (at ``service``): a SELECT and a VERIFY.

        A near miss (full-width digits, lower case) is answered with a hint and not sent; any
        other value of the wrong format is not sent either (a reader checks the format first).
        """
        pin = self._pin(pin_name)
        where = self._service(service, pin)
        spec = PIN_SPECS[pin]
        if not spec.format.accepts(value):
            hint = near_miss(pin, value)
            text = Text(
                f"Not sent to the card: the {spec.name_en} is {spec.format.description_en}.",
                f"カードには送っていません: {spec.name_ja}は{spec.format.description_ja}です。",
            )
            if hint is not None:
                text = Text(f"{text.en} Hint: {hint.en}.", f"{text.ja}ヒント: {hint.ja}。")
            return self._result(self._log(where, "not_sent", pin, text, Source(("004",))))
        answer = resets.verify_pin(self.card, pin, value)
        return self._result(self._log(where, "verify", pin, self._verify_text(pin, answer.sw,
                                                                              answer.tries),
                                      seeds("004", "002"), answer.sw))  # fmt: skip

    def use(self, service: str, right: bool) -> dict[str, Any]:
        """Use ``service`` with the right (or a wrong) PIN, as the learner chooses."""
        if service not in SERVICE_BY_KEY:
            raise LessonError(f"unknown service {service!r}")
        pin = SERVICE_BY_KEY[service].pin
        known = self.known[pin]
        return self.enter(CLI_PIN_NAME[pin], known if right else _wrong_value(pin, known), service)

    def lock(self, pin_name: str) -> dict[str, Any]:
        """Wrong entries until the card locks the PIN (each one a real VERIFY)."""
        pin = self._pin(pin_name)
        wrong = _wrong_value(pin, self.known[pin])
        for _ in range(PIN_SPECS[pin].max_tries):
            answer = resets.verify_pin(self.card, pin, wrong)
            if answer.locked:
                break
        return self.enter(CLI_PIN_NAME[pin], self.known[pin])  # and the right one, refused

    def plan(self, pin_name: str, channel: str, applicant: str, year: int,
             other_known: bool = True) -> dict[str, Any]:  # fmt: skip
        """The reset wizard's answer: plan (steps, what to bring, visits) and refusals, each with
        its source; the card is not touched."""
        request, _ = self._request(pin_name, channel, applicant, year)
        plan = resets.plan_for(request.pin, request.channel, request.applicant, request.at.date())
        refusals = resets.check_request(request, other_known=other_known)
        return {
            "rule": plan.rule.value,
            "rule_source": resets.RULE_SOURCES[plan.rule].as_dict(),
            "cut_over": {"date": resets.RULE_2025_FROM.isoformat(),
                         "source": resets.CUT_OVER_SOURCE.as_dict()},
            **plan.as_json(),
            "documents": [resets.DOCUMENTS_A.as_dict(), resets.DOCUMENTS_B.as_dict()],
            "refusals": [{"code": r.code.value, "text": r.text.as_dict(),
                          "source": r.source.as_dict()} for r in refusals],
        }  # fmt: skip

    def reset(self, pin_name: str, channel: str, applicant: str, year: int,
              other_known: bool = True) -> dict[str, Any]:  # fmt: skip
        """Carry the reset out on the card (issuer operation), the new PIN equal to the old
        practice value (seed 001: allowed). Kiosk: the app reservation is taken as made an hour
        before; the other JPKI PIN, if known, is checked on the card (a wrong one would count)."""
        request, pin = self._request(pin_name, channel, applicant, year)
        other = resets.KIOSK_PINS[resets.kiosk_rule_on(request.at.date())].get(pin)
        other_value = self.known.get(other) if (other and other_known) else None
        outcome = resets.reset_pin(self.card, request, self.known[pin], other_value=other_value)
        if outcome.done:
            text = Text(
                f"Reset at the {resets.CHANNEL_NAMES[request.channel].en}: the counter is full "
                "again and the PIN works (the practice value is kept: a new PIN may equal the old).",
                f"{resets.CHANNEL_NAMES[request.channel].ja}で再設定: 残り回数は最大に戻り、"
                "使えるようになりました(練習用の値のまま: 以前と同じ値も設定できます)。",
            )
            source = seeds("000", "001", "002", "004")
        else:
            first = outcome.refusals[0]
            text, source = (
                Text("Refused: " + first.text.en, "受け付けられません: " + first.text.ja),
                first.source,
            )
        entry = self._log(None, "reset", pin, text, source, outcome.verify_sw, outcome.done)
        return {**self._result(entry), "done": outcome.done,
                "plan": self.plan(pin_name, channel, applicant, year, other_known)}  # fmt: skip

    # -- helpers -------------------------------------------------------------------------------

    def _pin(self, name: str) -> PinName:
        try:
            pin = parse_pin(name)
        except ValueError as exc:
            raise LessonError(str(exc)) from None
        if pin not in USER_PINS:
            raise LessonError(f"not one of the four PINs: {name!r}")
        return pin

    def _service(self, key: str | None, pin: PinName) -> Service | None:
        if not key:
            return None
        service = SERVICE_BY_KEY.get(key)
        if service is None:
            raise LessonError(f"unknown service {key!r}")
        if service.pin != pin:
            raise LessonError(f"{key} asks for the {CLI_PIN_NAME[service.pin]} PIN")
        return service

    def _request(self, pin_name: str, channel: str, applicant: str,
                 year: int) -> tuple[resets.ResetRequest, PinName]:  # fmt: skip
        pin = self._pin(pin_name)
        try:
            via, who = resets.Channel(channel), resets.Applicant(applicant)
        except ValueError as exc:
            raise LessonError(str(exc)) from None
        if year not in (2024, 2025):
            raise LessonError("year must be 2024 or 2025")
        day = self.today if year == self.today.year else date(year, 8, 1)
        at = datetime.combine(day, time(10, 0))
        return resets.ResetRequest(pin, via, at, applicant=who,
                                   reserved_at=at - timedelta(hours=1)), pin  # fmt: skip

    @staticmethod
    def _verify_text(pin: PinName, sw: int, tries: int | None) -> Text:
        """What the card's answer means for a learner: in words, without status words."""
        spec = PIN_SPECS[pin]
        where = _WHERE_TO_RESET.get(pin, _WHERE_TO_RESET[PinName.RESIDENT_REGISTRY])
        if sw == 0x9000:
            return Text(
                f"Right PIN: the card restores all {spec.max_tries} tries.",
                f"正しい暗証番号: 残り回数は{spec.max_tries}回に戻ります。",
            )
        if sw == 0x6984 or tries == 0:
            head = (
                Text("Locked: the card refuses even the right PIN. ",
                     "ロック中: 正しい暗証番号でも使えません。")
                if sw == 0x6984
                else Text("Wrong PIN: no tries left, the PIN is now LOCKED. ",
                          "暗証番号が違います: 残り回数がなくなり、ロックされました。")
            )  # fmt: skip
            return Text(head.en + where.en, head.ja + where.ja)
        if tries is not None:
            after = (
                Text("The next wrong entry locks it.", "次に間違えるとロックされます。")
                if tries == 1
                else Text(f"The next wrong entry leaves {tries - 1}.",
                          f"次に間違えると残り{tries - 1}回です。")
            )  # fmt: skip
            return Text(
                f"Wrong PIN: {tries} of {spec.max_tries} tries left. {after.en} The count stays "
                "on the card across days and services; one right entry restores it.",
                f"暗証番号が違います: 残り{tries}回(最大{spec.max_tries}回)。{after.ja}"
                "回数は日付やサービスをまたいでカードに残り、正しく1回入力すると戻ります。",
            )
        return Text(explain_status_word(sw, Lang.EN), explain_status_word(sw, Lang.JA))

    def _log(self, service: Service | None, kind: str, pin: PinName | None, text: Text,
             source: Source, sw: int | None = None, ok: bool = False) -> dict[str, Any]:  # fmt: skip
        status = self.card.issuer.pin_status(pin) if pin else None
        entry = {
            "n": len(self.timeline) + 1,
            "day": self.day,
            "date": self.today.isoformat(),
            "kind": kind,
            "service": service.key if service else None,
            "service_name": service.name.as_dict() if service else None,
            "pin": CLI_PIN_NAME[pin] if pin else None,
            "sw": f"{sw:04X}" if sw is not None else None,
            "remaining": status.remaining if status else None,
            "max": status.max_tries if status else None,
            "locked": bool(status and status.locked),
            "ok": ok or sw == 0x9000,
            "text": text.as_dict(),
            "source": source.as_dict(),
        }
        self.timeline.append(entry)
        return entry

    def _result(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {"entry": entry, "state": self.state()}
