"""The PIN reset procedures (再設定・初期化) as a model over the card's issuer operations.

A reset is not an APDU a reader can send (card-interface.md §10.3): a municipal window or a
convenience-store kiosk does it. ``reset_data`` holds who may ask where, what they bring and how
many visits it takes; this module says when the answer is no (each refusal with its seed page) and
then calls ``card.issuer.reset_pin``. The kiosk path checks the other JPKI PIN on the card through
real VERIFY APDUs (``pin_ops``), so a wrong entry there counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from card_emulator.rules import PIN_SPECS, USER_PINS, PinName
from card_emulator.teaching.i18n import Text, count
from card_emulator.teaching.pin_ops import (
    CLI_PIN_NAME,
    PIN_ALIASES,
    PinAnswer,
    change_apdu,
    change_pin,
    change_without_verify,
    parse_pin,
    query_pin,
    select_app_apdu,
    select_pin_ef_apdu,
    verify_apdu,
    verify_pin,
)
from card_emulator.teaching.refusals import Refusal, RefusalCode, refuse
from card_emulator.teaching.reset_data import (
    APPLICANT_NAMES,
    CHANNEL_NAMES,
    CUT_OVER_SOURCE,
    DOCUMENTS_A,
    DOCUMENTS_B,
    HOURS_SOURCE,
    JST,
    KIOSK_CLOSES,
    KIOSK_OPENS,
    KIOSK_PINS,
    RESERVATION_SOURCES,
    RESERVATION_VALID_FOR,
    RULE_2025_FROM,
    RULE_SOURCES,
    Applicant,
    Channel,
    KioskRule,
    ResetPlan,
    Step,
    kiosk_rule_on,
    pin_text,
    plan_for,
)
from card_emulator.teaching.sources import Source, seeds

if TYPE_CHECKING:
    from card_emulator.card import Card

__all__ = [
    "APPLICANT_NAMES", "CHANNEL_NAMES", "CLI_PIN_NAME", "CUT_OVER_SOURCE", "DOCUMENTS_A",
    "DOCUMENTS_B", "JST", "KIOSK_CLOSES", "KIOSK_OPENS", "KIOSK_PINS", "PIN_ALIASES",
    "RESERVATION_VALID_FOR", "RULE_2025_FROM", "RULE_SOURCES", "Applicant", "Channel", "KioskRule", "PinAnswer",
    "Refusal", "RefusalCode", "Reservation", "ResetOutcome", "ResetPlan", "ResetRequest", "Step",
    "change_apdu", "change_pin", "change_without_verify", "check_request", "kiosk_rule_on",
    "parse_pin", "plan_for", "query_pin", "reserve_kiosk", "reset_channels", "reset_pin",
    "select_app_apdu", "select_pin_ef_apdu", "verify_apdu", "verify_pin",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ResetRequest:
    """A reset asked for at ``at``. Values (new PIN, other PIN) are passed separately, never kept."""

    pin: PinName
    channel: Channel
    at: datetime
    applicant: Applicant = Applicant.HOLDER
    reserved_at: datetime | None = None  # kiosk: when step 1 (the app reservation) was done
    certificate_expired: bool = False  # known without a card; with a card, its certificate decides
    mail_forwarded: bool = False  # voluntary proxy: the holder has mail forwarded elsewhere
    reply_complete: bool = True  # voluntary proxy: the reply is filled in
    reply_pin_hidden: bool = True  # voluntary proxy: the PIN on the reply is hidden


@dataclass(frozen=True, slots=True)
class Reservation:
    """Kiosk step 1, done in the smartphone app: valid for 24 hours (002; 2025: assumed)."""

    pin: PinName
    at: datetime

    def valid_at(self, when: datetime) -> bool:
        """Whether step 2 at ``when`` is within the reservation's validity."""
        return self.at <= when <= self.at + RESERVATION_VALID_FOR


@dataclass(frozen=True, slots=True)
class ResetOutcome:
    """What came of a request: done, or refused with reasons; the plan; the kiosk's VERIFY."""

    request: ResetRequest
    rule: KioskRule
    done: bool
    refusals: tuple[Refusal, ...]
    plan: ResetPlan | None
    verify_sw: int | None = None  # the card's answer to the kiosk's VERIFY of the other PIN
    checked_pin: PinName | None = None  # the PIN the kiosk verified
    notes: tuple[Text, ...] = field(default=())


def _hours(lang_hours: float) -> Text:
    n = round(lang_hours)
    return Text(count("en", n, "hour", "hours", "時間"), count("ja", n, "hour", "hours", "時間"))


def _kiosk_time_refusals(request: ResetRequest) -> list[Refusal]:
    out = []
    when = request.at.time()
    if not KIOSK_OPENS <= when < KIOSK_CLOSES:
        out.append(refuse(RefusalCode.KIOSK_CLOSED, at=f"{when:%H:%M}"))
    if request.reserved_at is None:
        out.append(refuse(RefusalCode.NO_RESERVATION))
    elif not Reservation(request.pin, request.reserved_at).valid_at(request.at):
        hours = (request.at - request.reserved_at).total_seconds() / 3600
        out.append(refuse(RefusalCode.RESERVATION_EXPIRED, hours=_hours(hours)))
    return out


def _kiosk_refusals(request: ResetRequest, other_known: bool) -> list[Refusal]:
    pin, rule = request.pin, kiosk_rule_on(request.at.date())
    allowed = KIOSK_PINS[rule]
    out: list[Refusal] = []
    if pin not in allowed:
        four_digit_elsewhere = PIN_SPECS[pin].format.max_length == 4 and pin != PinName.USER_AUTH
        code = (
            RefusalCode.KIOSK_FOUR_DIGIT
            if four_digit_elsewhere
            else RefusalCode.KIOSK_2024_SIGNING_ONLY
        )
        out.append(refuse(code, pin=pin_text(pin), rule=rule.value))
    if request.applicant != Applicant.HOLDER:
        out.append(refuse(RefusalCode.KIOSK_HOLDER_ONLY))
    if pin in allowed:
        if not other_known:
            out.append(
                refuse(
                    RefusalCode.BOTH_JPKI_UNKNOWN, pin=pin_text(pin), other=pin_text(allowed[pin])
                )
            )
        if request.applicant == Applicant.HOLDER:
            out += _kiosk_time_refusals(request)
    return out


def check_request(request: ResetRequest, *, other_known: bool = True) -> tuple[Refusal, ...]:
    """The refusals that need no card (pin-rules.md §3–§5). ``other_known``: the kiosk's other PIN."""
    refusals: list[Refusal] = []
    pin = request.pin
    if request.certificate_expired and pin in (PinName.SIGNING, PinName.USER_AUTH):
        refusals.append(refuse(RefusalCode.CERTIFICATE_EXPIRED, pin=pin_text(pin)))
    if request.channel == Channel.KIOSK:
        refusals += _kiosk_refusals(request, other_known)
    elif request.applicant == Applicant.VOLUNTARY_PROXY:
        if request.mail_forwarded:
            refusals.append(refuse(RefusalCode.INQUIRY_NOT_FORWARDED))
        problems = [
            Text(en, ja)
            for bad, en, ja in (
                (not request.reply_complete, "it is incomplete", "記入不足"),
                (
                    not request.reply_pin_hidden,
                    "the PIN on it is not hidden",
                    "暗証番号の目隠しなし",
                ),
            )
            if bad
        ]
        if problems:
            joined = Text(" and ".join(p.en for p in problems), "・".join(p.ja for p in problems))
            refusals.append(refuse(RefusalCode.REPLY_REJECTED, problems=joined))
    return tuple(refusals)


_CERTIFICATE_OF: dict[PinName, str] = {PinName.SIGNING: "signing", PinName.USER_AUTH: "user_auth"}


def _card_refusals(card: Card, request: ResetRequest, new_value: str | None) -> list[Refusal]:
    """Refusals that need a look at the card: PIN present, certificate valid, new value format."""
    pin = request.pin
    spec = PIN_SPECS[pin]
    no_certificate = pin == PinName.SIGNING and not card.issuer.has_signing_certificate
    if no_certificate or pin not in card.issuer.pins():
        if pin == PinName.SIGNING:
            return [refuse(RefusalCode.NO_SIGNING_CERTIFICATE)]
        return [refuse(RefusalCode.PIN_NOT_ON_CARD, pin=pin_text(pin))]
    out: list[Refusal] = []
    label = _CERTIFICATE_OF.get(pin)
    certificate = card.issuer.certificates().get(label) if label else None
    if certificate is not None and not request.certificate_expired:
        at = request.at if request.at.tzinfo else request.at.replace(tzinfo=JST)
        if certificate.not_valid_after_utc < at:
            out.append(refuse(RefusalCode.CERTIFICATE_EXPIRED, pin=pin_text(pin)))
    if new_value is not None and not spec.format.accepts(new_value):
        fmt = Text(spec.format.description_en, spec.format.description_ja)
        out.append(refuse(RefusalCode.BAD_NEW_VALUE, pin=pin_text(pin), format=fmt))
    return out


def _other_refusal(other: PinName, answer: PinAnswer) -> Refusal:
    name = pin_text(other)
    if answer.sw == 0x6984:
        return refuse(RefusalCode.OTHER_PIN_LOCKED, other=name)
    if answer.tries_left is not None:
        left = answer.tries_left
        tail = (
            Text(" It is now locked too.", "これでロックされました。")
            if left == 0
            else Text("", "")
        )
        refusal = refuse(
            RefusalCode.OTHER_PIN_WRONG,
            other=name,
            left=Text(count("en", left, "try", "tries", "回"), count("ja", left, "", "", "回")),
        )
        return Refusal(refusal.code, Text(refusal.text.en + tail.en, refusal.text.ja + tail.ja),
                       refusal.source)  # fmt: skip
    return refuse(RefusalCode.CARD_REFUSED, other=name, sw=f"{answer.sw:04X}")


def reserve_kiosk(card: Card, pin: PinName, other_value: str | None, at: datetime) -> ResetOutcome:
    """Kiosk step 1 in the smartphone app: VERIFY the other JPKI PIN on the card (it counts).

    ``done`` means the reservation was made; pass ``request.reserved_at=at`` to ``reset_pin`` later.
    """
    request = ResetRequest(pin, Channel.KIOSK, at, reserved_at=at)
    rule = kiosk_rule_on(at.date())
    refusals = [
        r
        for r in check_request(request, other_known=other_value is not None)
        if r.code != RefusalCode.KIOSK_CLOSED
    ]  # the app takes reservations any time
    refusals += _card_refusals(card, request, None)
    plan = plan_for(pin, Channel.KIOSK, Applicant.HOLDER, at.date())
    if refusals or other_value is None:
        return ResetOutcome(request, rule, False, tuple(refusals), plan)
    other = KIOSK_PINS[rule][pin]
    answer = verify_pin(card, other, other_value)
    if not answer.ok:
        return ResetOutcome(
            request, rule, False, (_other_refusal(other, answer),), plan, answer.sw, other
        )
    note = Text(
        "Reservation made: go to a kiosk within 24 hours.",
        "予約完了: 24時間以内にキオスク端末で手続きしてください。",
    )
    return ResetOutcome(request, rule, True, (), plan, answer.sw, other, (note,))


def reset_pin(
    card: Card,
    request: ResetRequest,
    new_value: str,
    *,
    other_value: str | None = None,
) -> ResetOutcome:
    """Carry out ``request``: either refusals with reasons, or the plan and the card reset.

    Kiosk: ``other_value`` is the other JPKI PIN the holder types; None means unknown. It is checked
    on the card by SELECT + VERIFY APDUs before ``card.issuer.reset_pin``: a wrong one counts.
    """
    rule = kiosk_rule_on(request.at.date())
    plan = plan_for(request.pin, request.channel, request.applicant, request.at.date())
    refusals = list(check_request(request, other_known=other_value is not None))
    known = {r.code for r in refusals}
    refusals += [r for r in _card_refusals(card, request, new_value) if r.code not in known]
    if refusals:
        return ResetOutcome(request, rule, False, tuple(refusals), plan)
    verify_sw: int | None = None
    checked: PinName | None = None
    if request.channel == Channel.KIOSK:
        assert other_value is not None  # check_request refused otherwise
        checked = KIOSK_PINS[rule][request.pin]
        answer = verify_pin(card, checked, other_value)
        verify_sw = answer.sw
        if not answer.ok:
            return ResetOutcome(
                request, rule, False, (_other_refusal(checked, answer),), plan, verify_sw, checked
            )
    card.issuer.reset_pin(request.pin, new_value)
    return ResetOutcome(request, rule, True, (), plan, verify_sw, checked)


def reset_channels(on: date) -> list[tuple[Channel, tuple[PinName, ...], Text, Source]]:
    """Which channel resets which PIN on ``on``, its condition and source (``mynacard rules``)."""
    rule = kiosk_rule_on(on)
    kiosk = KIOSK_PINS[rule]
    needs = Text(
        "; ".join(f"{pin_text(p).en} needs the {pin_text(o).en}" for p, o in kiosk.items()),
        "、".join(f"{pin_text(p).ja}には{pin_text(o).ja}が必要" for p, o in kiosk.items()),
    )
    reservation = RESERVATION_SOURCES[rule]
    kiosk_source = Source(
        tuple(sorted({*RULE_SOURCES[rule].seeds, *HOURS_SOURCE.seeds, *reservation.seeds})),
        reservation.assumption,
    )
    return [
        (
            Channel.WINDOW,
            USER_PINS,
            Text(
                "holder, legal representative or voluntary proxy (2 visits, 3 in Kanazawa; "
                "mailed inquiry)",
                "本人・法定代理人・任意代理人(任意代理人は2回来庁、金沢市は3回。照会書の郵送)",
            ),
            seeds("000", "002", "003", "004"),
        ),
        (
            Channel.KIOSK,
            tuple(kiosk),
            Text(
                f"{rule.value} rule: {needs.en}; app reservation valid 24 h; 6:30–23:00; holder only",
                f"{rule.value}年のルール: {needs.ja}。アプリで予約し24時間以内、6:30~23:00、本人のみ",
            ),
            kiosk_source,
        ),
    ]
