"""The PIN reset procedures (再設定・初期化) as a model over the card's issuer operations.

A reset is not an APDU a reader can send (card-interface.md §10.3): a municipal window or a
convenience-store kiosk does it. This module models who may ask where, what they bring, how many
visits it takes, and when the answer is no — then calls ``card.issuer.reset_pin``. The kiosk path
checks the other JPKI PIN on the card through real VERIFY APDUs, so a wrong entry there counts.

Sources (``shared/seeds/``): 000 Yachimata (2022-04-01), 001 a blog (about 2020), 002 Oyamazaki
(2024-07-27), 003 Mitaka (2025-04-30), 004 Kanazawa (2025); distilled in pin-rules.md §3–§5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import TYPE_CHECKING

from apdu import CommandApdu, retries_left
from card_emulator.rules import APP_AIDS, PIN_SPECS, USER_PINS, ChangeCommand, PinName
from card_emulator.teaching.explain import tries_phrase
from card_emulator.teaching.i18n import Text

if TYPE_CHECKING:
    from card_emulator.card import Card


# ---------------------------------------------------------------------------------------------
# What a terminal sends: the APDUs of a reader application, a kiosk or the CLI
# ---------------------------------------------------------------------------------------------


def select_app_apdu(pin: PinName) -> bytes:
    aid = APP_AIDS[PIN_SPECS[pin].app]
    return CommandApdu(0x00, 0xA4, 0x04, 0x0C, aid).to_bytes()  # card-interface.md §2.1


def select_pin_ef_apdu(pin: PinName) -> bytes:
    fid = PIN_SPECS[pin].fid.to_bytes(2, "big")
    return CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid).to_bytes()


def verify_apdu(value: bytes) -> bytes:
    """``00 20 00 80 Lc value``; an empty value is the tries query ``00 20 00 80`` (§2.4)."""
    return CommandApdu(0x00, 0x20, 0x00, 0x80, value).to_bytes()


def change_apdu(pin: PinName, new_value: bytes) -> bytes:
    """CHANGE REFERENCE DATA ``00 24 01 80`` or, in 住基AP, CHANGE KEY ``80 32 00 80`` (§2.5)."""
    command = PIN_SPECS[pin].change or ChangeCommand.CHANGE_REFERENCE_DATA
    cla, ins, p1, p2 = command.value
    return CommandApdu(cla, ins, p1, p2, new_value).to_bytes()


def _sw(response: bytes) -> int:
    return int.from_bytes(response[-2:], "big") if len(response) >= 2 else 0x6F00


@dataclass(frozen=True, slots=True)
class PinAnswer:
    """The card's answer to the last command of a PIN operation."""

    pin: PinName
    sw: int
    step: str  # select_app, select_ef, verify, query, change: where the operation stopped

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000

    @property
    def tries_left(self) -> int | None:
        """Tries left as the card reported them (63Cx), else None."""
        return retries_left(self.sw)

    @property
    def locked(self) -> bool:
        return self.sw == 0x6984 or (self.tries_left == 0)


def _selected_then(card: Card, pin: PinName, step: str, apdu: bytes) -> PinAnswer:
    """SELECT the PIN's application and EF, then send ``apdu``; the answer where it stopped."""
    for select_step, select in (
        ("select_app", select_app_apdu(pin)),
        ("select_ef", select_pin_ef_apdu(pin)),
    ):
        sw = _sw(card.transmit(select))
        if sw != 0x9000:
            return PinAnswer(pin, sw, select_step)
    return PinAnswer(pin, _sw(card.transmit(apdu)), step)


def query_pin(card: Card, pin: PinName) -> PinAnswer:
    """Tries left without spending one: VERIFY with no data (63Cx; 63C0 when locked)."""
    return _selected_then(card, pin, "query", verify_apdu(b""))


def verify_pin(card: Card, pin: PinName, value: str) -> PinAnswer:
    """SELECT the application and the PIN EF, then VERIFY ``value`` (ASCII, as clients send it)."""
    return _selected_then(card, pin, "verify", verify_apdu(value.encode()))


def change_pin(card: Card, pin: PinName, current: str, new: str) -> PinAnswer:
    """VERIFY the current value, then CHANGE to ``new``; stops at the first refusal (pin-rules §3)."""
    answer = verify_pin(card, pin, current)
    if not answer.ok:
        return answer
    return PinAnswer(pin, _sw(card.transmit(change_apdu(pin, new.encode()))), "change")


def change_without_verify(card: Card, pin: PinName, new: str) -> PinAnswer:
    """CHANGE right after SELECT, with no VERIFY: shows the card's 6982."""
    return _selected_then(card, pin, "change", change_apdu(pin, new.encode()))


# ---------------------------------------------------------------------------------------------
# The channels, the rules by date, the applicants and what they bring
# ---------------------------------------------------------------------------------------------


class Channel(StrEnum):
    WINDOW = "window"  # 市区町村窓口
    KIOSK = "kiosk"  # コンビニ等のキオスク端末, after a reservation in the smartphone app


class Applicant(StrEnum):
    HOLDER = "holder"  # 本人
    LEGAL_REPRESENTATIVE = "legal-representative"  # 法定代理人 (parent of a child, guardian)
    VOLUNTARY_PROXY = "voluntary-proxy"  # 任意代理人


class KioskRule(StrEnum):
    RULE_2024 = "2024"  # seed 002: the signing password only, with the user-authentication PIN
    RULE_2025 = "2025"  # seed 004: either JPKI PIN, each with the other one


# ASSUMPTION: no seed gives the day the kiosk rule changed. Seed 002 (updated 2024-07-27) states the
# 2024 rule; seed 004 (2025) states the 2025 rule. We take the first day of 2025 as the cut-over.
RULE_2025_FROM = date(2025, 1, 1)

# Which PIN each rule resets at a kiosk, and the other JPKI PIN it needs (pin-rules.md §4).
KIOSK_PINS: dict[KioskRule, dict[PinName, PinName]] = {
    KioskRule.RULE_2024: {PinName.SIGNING: PinName.USER_AUTH},  # 002, 000
    KioskRule.RULE_2025: {PinName.SIGNING: PinName.USER_AUTH, PinName.USER_AUTH: PinName.SIGNING},
}
KIOSK_OPENS = time(6, 30)  # 002, 004: 6:30–23:00
KIOSK_CLOSES = time(23, 0)
# 002: step 2 within 24 hours of the reservation, else start again. 004 names the app but not the
# limit; we keep the 24 hours under the 2025 rule too (an assumption).
RESERVATION_VALID_FOR = timedelta(hours=24)

JST = timezone(timedelta(hours=9), "JST")  # a time without a zone is Japan time

# CLI spellings of the four PINs.
PIN_ALIASES: dict[str, PinName] = {
    "signing": PinName.SIGNING,
    "user-auth": PinName.USER_AUTH,
    "resident": PinName.RESIDENT_REGISTRY,
    "text": PinName.TEXT_INPUT_HELPER,
}
CLI_PIN_NAME: dict[PinName, str] = {v: k for k, v in PIN_ALIASES.items()}


def parse_pin(name: str) -> PinName:
    """``signing|user-auth|resident|text`` (or the PinName values) → PinName."""
    key = name.strip().lower()
    if key in PIN_ALIASES:
        return PIN_ALIASES[key]
    try:
        return PinName(key.replace("-", "_"))
    except ValueError:
        raise ValueError(f"unknown PIN {name!r}: use one of {', '.join(PIN_ALIASES)}") from None


def kiosk_rule_on(day: date) -> KioskRule:
    return KioskRule.RULE_2025 if day >= RULE_2025_FROM else KioskRule.RULE_2024


# Identity documents (本人確認書類), pin-rules.md §5; lists from 000, 002 and 004.
DOCUMENTS_A = Text(
    "A (government photo ID): My Number Card, driver's licence, 運転経歴証明書 issued from "
    "2012-04-01, passport, 住民基本台帳カード with photo, disability handbooks, residence card, "
    "special permanent resident certificate",
    "A欄(官公署発行の顔写真付き): マイナンバーカード、運転免許証、運転経歴証明書(平成24年4月1日"
    "以降交付)、パスポート、写真付き住民基本台帳カード、身体障害者手帳等、在留カード、特別永住者証明書",
)
DOCUMENTS_B = Text(
    "B (other): health-insurance certificate, pension handbook, medical-benefit certificate, "
    "bank book in the holder's name, employee or student ID",
    "B欄(その他): 健康保険の資格確認書等、年金手帳、医療受給者証、本人名義の預金通帳、社員証、学生証",
)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a plan. ``visit`` numbers the trips to the window or the kiosk; None is not one."""

    visit: int | None
    where: Text
    what: Text
    brings: tuple[Text, ...] = ()


@dataclass(frozen=True, slots=True)
class ResetPlan:
    channel: Channel
    applicant: Applicant
    pin: PinName
    rule: KioskRule
    steps: tuple[Step, ...]
    notes: tuple[Text, ...] = ()

    @property
    def visits(self) -> int:
        """Trips to the window or the kiosk: the last visit a step names."""
        return max((s.visit for s in self.steps if s.visit is not None), default=0)


_WINDOW = Text("municipal window", "市区町村の窓口")
_KIOSK = Text(
    "convenience-store kiosk (行政サービスメニュー)",
    "コンビニ等のキオスク端末(行政サービスメニュー)",
)
_APP = Text("smartphone app (NFC)", "スマートフォンの専用アプリ(NFC)")
_POST = Text("post to the holder's registered address", "本人の住民票の住所へ郵送")
_HOLDER_CARD = Text("the holder's My Number Card (the original)", "本人のマイナンバーカード(原本)")
_HOLDER_ID = Text(
    "one more ID of the holder besides the card (A or B)",
    "カード以外の本人確認書類1点(A欄またはB欄)",
)
_FORM = Text("the reset application form (given at the window)", "暗証番号再設定申請書(窓口で配布)")
_LETTER = Text("a letter of attorney (委任状)", "委任状")
_REPLY = Text(
    "the inquiry reply (照会書/回答書), the new PIN written by the holder and hidden",
    "本人が記入し暗証番号を目隠しした照会書(回答書)",
)
_PROXY_A = Text("the proxy's ID: one from A", "代理人の本人確認書類: A欄から1点")
_TWO_IDS = Text("two IDs: A+B or A+A", "本人確認書類2点: A欄2点、またはA欄とB欄から1点ずつ")
_PROOF = Text(
    "proof of the representation: 戸籍謄本 for a child, 登記事項証明書 for an adult ward "
    "(not needed when the city can confirm it itself)",
    "代理権を証明する書類: 未成年は戸籍謄本、成年被後見人は登記事項証明書"
    "(市区町村で確認できる場合は不要)",
)


def _name(pin: PinName) -> Text:
    spec = PIN_SPECS[pin]
    return Text(spec.name_en, spec.name_ja)


def _new_pin_text(pin: PinName) -> Text:
    spec = PIN_SPECS[pin]
    return Text(
        f"set the new {spec.name_en} ({spec.format.description_en}); it may equal the old one (001)",
        f"新しい{spec.name_ja}({spec.format.description_ja})を設定。以前と同じ値も可(001)",
    )


# The window in one visit: who applies (then sets the new PIN) and what they bring.
_ONE_VISIT: dict[Applicant, tuple[Text, tuple[Text, ...]]] = {
    Applicant.HOLDER: (
        Text("staff check the ID; the holder ", "本人確認の後、本人が"),
        (_HOLDER_CARD, _HOLDER_ID, _FORM),
    ),
    Applicant.LEGAL_REPRESENTATIVE: (
        Text("the representative applies; ", "法定代理人が申請し、"),
        (
            _HOLDER_CARD,
            _HOLDER_ID,
            Text(
                "the representative's IDs: A+B or A+A (004: one A)",
                "法定代理人の本人確認書類: A欄2点またはA欄とB欄から1点ずつ(004: A欄1点)",
            ),
            _PROOF,
        ),
    ),
}
# A voluntary proxy: two visits around a mailed inquiry; the holder writes the new PIN on it.
_PROXY_STEPS: tuple[Step, ...] = (
    Step(
        1,
        _WINDOW,
        Text("the proxy applies", "任意代理人が申請"),
        (_HOLDER_CARD, _PROXY_A, _LETTER),
    ),
    Step(
        None,
        _POST,
        Text(
            "the city mails an inquiry (照会書/回答書) 転送不要: not forwarded. The holder writes the "
            "new PIN on it and hides it (blind seal or sealed envelope)",
            "市区町村が照会書(回答書)を転送不要郵便で送付。本人が新しい暗証番号を記入し、"
            "目隠しシールまたは封筒で隠す",
        ),
    ),
    Step(
        2,
        _WINDOW,
        Text(
            "the proxy brings the reply; staff type the PIN, the proxy never sees it",
            "代理人が回答書を持参。暗証番号は職員が入力し、代理人には見えません",
        ),
        (
            _REPLY,
            _HOLDER_CARD,
            _HOLDER_ID,
            Text("the proxy's " + _TWO_IDS.en, "代理人の" + _TWO_IDS.ja),
            _LETTER,
        ),
    ),
)
_KIOSK_NOTES: tuple[Text, ...] = (
    Text(
        "Free of charge; store staff cannot help (002).", "手数料無料。店員は案内できません(002)。"
    ),
    Text(
        "After 24 hours the reservation lapses: start again at step 1 (002).",
        "予約から24時間を過ぎたらステップ1からやり直し(002)。",
    ),
)
_WINDOW_NOTES: dict[Applicant, tuple[Text, ...]] = {
    Applicant.HOLDER: (
        Text(
            "Some cities ask only for the card (000); others for one more ID (002, 003).",
            "カードのみの市区町村(000)と、もう1点の本人確認書類を求める市区町村(002, 003)があります。",
        ),
        Text(
            "A minor or an adult ward comes with the legal representative (004).",
            "未成年者・成年被後見人等は法定代理人が同行します(004)。",
        ),
    ),
    Applicant.LEGAL_REPRESENTATIVE: (
        Text(
            "For a child under 15 or an adult ward: same day, one visit (000, 001, 002).",
            "15歳未満・成年被後見人の場合。1回の来庁で即日完了(000, 001, 002)。",
        ),
    ),
    Applicant.VOLUNTARY_PROXY: (
        Text(
            "Never done the same day (000, 002, 003).", "即日の手続きはできません(000, 002, 003)。"
        ),
        Text(
            "Kanazawa takes three visits (the form is taken home first), the last within 30 days "
            "of the previous one (004).",
            "金沢市は3回の来庁(申請書を持ち帰って記入)、最後は前回から30日以内(004)。",
        ),
        Text(
            "The reply is rejected if incomplete or if the PIN is not hidden: a new inquiry (004).",
            "回答書の記入不足や暗証番号の目隠しがない場合は、改めて文書照会(004)。",
        ),
        Text(
            "One blog adds proof that the holder cannot come; work reasons are not accepted (001).",
            "本人が来庁できないことの疎明資料を求める例もあり、仕事の都合は認められません(001)。",
        ),
    ),
}


def _kiosk_steps(pin: PinName, new_pin: Text) -> tuple[Step, ...]:
    """Step 1 in the smartphone app, step 2 at the kiosk; both ask for the other JPKI PIN."""
    other = _name(KIOSK_PINS[KioskRule.RULE_2025].get(pin, PinName.USER_AUTH))
    return (
        Step(
            None,
            _APP,
            Text(
                f"step 1: read the card, enter the {other.en}, pass face authentication: "
                "a reservation, possible at any hour",
                f"ステップ1: カードを読み取り、{other.ja}を入力し顔認証を行う(事前予約、24時間可能)",
            ),
            (
                _HOLDER_CARD,
                Text("an NFC smartphone with the app", "NFC対応スマートフォンと専用アプリ"),
            ),
        ),
        Step(
            1,
            _KIOSK,
            Text(
                f"step 2, within 24 hours, 6:30–23:00: set the card, enter the {other.en}, "
                f"then {new_pin.en}",
                f"ステップ2(24時間以内、6:30~23:00): カードをセットし{other.ja}を入力、{new_pin.ja}",
            ),
            (_HOLDER_CARD,),
        ),
    )


def plan_for(pin: PinName, channel: Channel, applicant: Applicant, on: date) -> ResetPlan:
    """The steps, documents and visits for a reset (pin-rules.md §4–§5). Pure; no refusal checks."""
    new_pin = _new_pin_text(pin)
    steps: tuple[Step, ...]
    if channel == Channel.KIOSK:
        steps, notes = _kiosk_steps(pin, new_pin), _KIOSK_NOTES
    else:
        notes = _WINDOW_NOTES[applicant]
        if applicant in _ONE_VISIT:
            who, brings = _ONE_VISIT[applicant]
            steps = (Step(1, _WINDOW, Text(who.en + new_pin.en, who.ja + new_pin.ja), brings),)
        else:
            steps = _PROXY_STEPS
    return ResetPlan(channel, applicant, pin, kiosk_rule_on(on), steps, notes)


# ---------------------------------------------------------------------------------------------
# Requests, refusals, outcomes
# ---------------------------------------------------------------------------------------------


class RefusalCode(StrEnum):
    KIOSK_FOUR_DIGIT = "kiosk_four_digit"
    KIOSK_2024_SIGNING_ONLY = "kiosk_2024_signing_only"
    KIOSK_HOLDER_ONLY = "kiosk_holder_only"
    KIOSK_CLOSED = "kiosk_closed"
    NO_RESERVATION = "no_reservation"
    RESERVATION_EXPIRED = "reservation_expired"
    BOTH_JPKI_UNKNOWN = "both_jpki_unknown"
    OTHER_PIN_WRONG = "other_pin_wrong"
    OTHER_PIN_LOCKED = "other_pin_locked"
    CERTIFICATE_EXPIRED = "certificate_expired"
    NO_SIGNING_CERTIFICATE = "no_signing_certificate"
    PIN_NOT_ON_CARD = "pin_not_on_card"
    BAD_NEW_VALUE = "bad_new_value"
    INQUIRY_NOT_FORWARDED = "inquiry_not_forwarded"
    REPLY_REJECTED = "reply_rejected"
    CARD_REFUSED = "card_refused"


@dataclass(frozen=True, slots=True)
class Refusal:
    code: RefusalCode
    text: Text
    source: str  # the seed or spec section the rule comes from


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
    """Kiosk step 1, done in the smartphone app: valid for 24 hours (002)."""

    pin: PinName
    at: datetime

    def valid_at(self, when: datetime) -> bool:
        return self.at <= when <= self.at + RESERVATION_VALID_FOR


@dataclass(frozen=True, slots=True)
class ResetOutcome:
    request: ResetRequest
    rule: KioskRule
    done: bool
    refusals: tuple[Refusal, ...]
    plan: ResetPlan | None
    verify_sw: int | None = None  # the card's answer to the kiosk's VERIFY of the other PIN
    checked_pin: PinName | None = None  # the PIN the kiosk verified
    notes: tuple[Text, ...] = field(default=())


def _refuse(code: RefusalCode, source: str, en: str, ja: str) -> Refusal:
    return Refusal(code, Text(en, ja), source)


def _kiosk_time_refusals(request: ResetRequest) -> list[Refusal]:
    out = []
    when = request.at.time()
    if not KIOSK_OPENS <= when < KIOSK_CLOSES:
        out.append(
            _refuse(
                RefusalCode.KIOSK_CLOSED,
                "002, 004",
                f"Kiosks offer this from 6:30 to 23:00; it is {when:%H:%M}.",
                f"キオスク端末の手続き時間は6:30~23:00です(現在{when:%H:%M})。",
            )
        )
    if request.reserved_at is None:
        out.append(
            _refuse(
                RefusalCode.NO_RESERVATION,
                "002",
                "No reservation: first do step 1 in the smartphone app (read the card, enter the "
                "other JPKI PIN, face authentication).",
                "事前予約がありません。先にスマートフォンアプリでステップ1(カード読み取り、もう一方の"
                "暗証番号の入力、顔認証)を行ってください。",
            )
        )
    elif not Reservation(request.pin, request.reserved_at).valid_at(request.at):
        hours = (request.at - request.reserved_at).total_seconds() / 3600
        out.append(
            _refuse(
                RefusalCode.RESERVATION_EXPIRED,
                "002",
                f"The reservation was made {hours:.0f} hours before; it is valid for 24 hours. "
                "Start again at step 1.",
                f"予約は{hours:.0f}時間前で、有効期間の24時間を過ぎています。ステップ1からやり直してください。",
            )
        )
    return out


def check_request(request: ResetRequest, *, other_known: bool = True) -> tuple[Refusal, ...]:
    """The refusals that need no card (pin-rules.md §3–§5). ``other_known``: the kiosk's other PIN."""
    refusals: list[Refusal] = []
    pin = request.pin
    rule = kiosk_rule_on(request.at.date())
    if request.certificate_expired and pin in (PinName.SIGNING, PinName.USER_AUTH):
        refusals.append(_expired_refusal(pin))
    if request.channel == Channel.KIOSK:
        allowed = KIOSK_PINS[rule]
        if pin not in allowed:
            if PIN_SPECS[pin].format.max_length == 4 and pin != PinName.USER_AUTH:
                refusals.append(
                    _refuse(
                        RefusalCode.KIOSK_FOUR_DIGIT,
                        "002, 004",
                        f"The {_name(pin).en} (4 digits) cannot be reset at a kiosk: only at the "
                        "municipal window.",
                        f"{_name(pin).ja}(数字4桁)はキオスク端末では再設定できません。市区町村の窓口へ。",
                    )
                )
            else:
                refusals.append(
                    _refuse(
                        RefusalCode.KIOSK_2024_SIGNING_ONLY,
                        "002",
                        f"Under the {rule.value} rule kiosks reset only the signing password; the "
                        f"{_name(pin).en} (4 digits) needs the municipal window. (The 2025 rule, from "
                        f"{RULE_2025_FROM.isoformat()}, adds it: 004.)",
                        f"{rule.value}年のルールではキオスク端末で再設定できるのは署名用の暗証番号だけです。"
                        f"{_name(pin).ja}(数字4桁)は窓口へ(2025年のルールでは可能: 004)。",
                    )
                )
        if request.applicant != Applicant.HOLDER:
            refusals.append(
                _refuse(
                    RefusalCode.KIOSK_HOLDER_ONLY,
                    "002",
                    "The kiosk path is for the holder only: step 1 authenticates the holder's face.",
                    "キオスク端末での再設定は本人のみです(ステップ1で本人の顔認証を行います)。",
                )
            )
        if pin in allowed:
            other = allowed[pin]
            if not other_known:
                refusals.append(
                    _refuse(
                        RefusalCode.BOTH_JPKI_UNKNOWN,
                        "004",
                        f"Both JPKI PINs are unknown (the {_name(pin).en} to reset and the "
                        f"{_name(other).en} the kiosk asks for): only the municipal window can reset "
                        "them.",
                        f"両方の暗証番号が不明です({_name(pin).ja}と、キオスク端末で必要な"
                        f"{_name(other).ja})。市区町村の窓口でのみ再設定できます。",
                    )
                )
        if pin in allowed and request.applicant == Applicant.HOLDER:
            refusals += _kiosk_time_refusals(request)
    elif request.applicant == Applicant.VOLUNTARY_PROXY:
        if request.mail_forwarded:
            refusals.append(
                _refuse(
                    RefusalCode.INQUIRY_NOT_FORWARDED,
                    "004, 000",
                    "The inquiry is mailed 転送不要 (not forwarded) to the holder's registered address: "
                    "with mail forwarding in place it never arrives. Cancel the forwarding first.",
                    "照会書は住民票の住所へ転送不要郵便で送られます。転送届を出していると届かないため、"
                    "事前に転送届を解除してください。",
                )
            )
        if not (request.reply_complete and request.reply_pin_hidden):
            problems_en = []
            problems_ja = []
            if not request.reply_complete:
                problems_en.append("it is incomplete")
                problems_ja.append("記入不足")
            if not request.reply_pin_hidden:
                problems_en.append("the PIN on it is not hidden")
                problems_ja.append("暗証番号の目隠しなし")
            refusals.append(
                _refuse(
                    RefusalCode.REPLY_REJECTED,
                    "004",
                    f"The inquiry reply is rejected ({' and '.join(problems_en)}): a new inquiry "
                    "and another visit are needed.",
                    f"回答書は受け付けられません({'・'.join(problems_ja)})。改めて文書照会と来庁が必要です。",
                )
            )
    return tuple(refusals)


def _expired_refusal(pin: PinName) -> Refusal:
    return _refuse(
        RefusalCode.CERTIFICATE_EXPIRED,
        "004",
        f"The certificate behind the {_name(pin).en} has expired: that is not fixed by a PIN reset. "
        "The certificate is re-issued at the municipal window.",
        f"{_name(pin).ja}の電子証明書は有効期限切れです。暗証番号の再設定では解決せず、"
        "市区町村の窓口で電子証明書の再発行が必要です。",
    )


_CERTIFICATE_OF: dict[PinName, str] = {PinName.SIGNING: "signing", PinName.USER_AUTH: "user_auth"}


def _card_refusals(card: Card, request: ResetRequest, new_value: str | None) -> list[Refusal]:
    """Refusals that need a look at the card: PIN present, certificate valid, new value format."""
    out: list[Refusal] = []
    pin = request.pin
    spec = PIN_SPECS[pin]
    no_certificate = pin == PinName.SIGNING and not card.issuer.has_signing_certificate
    if no_certificate or pin not in card.issuer.pins():
        if pin == PinName.SIGNING:
            out.append(
                _refuse(
                    RefusalCode.NO_SIGNING_CERTIFICATE,
                    "004",
                    "This card has no signing certificate (not issued by default under 15 or to adult "
                    "wards): there is no signing password to reset. It can be issued at the window.",
                    "このカードには署名用電子証明書がありません(15歳未満・成年被後見人には原則発行しません)。"
                    "再設定する暗証番号がありません。希望すれば窓口で発行できます。",
                )
            )
        else:
            out.append(
                _refuse(
                    RefusalCode.PIN_NOT_ON_CARD,
                    "card",
                    f"This card has no {spec.name_en}.",
                    f"このカードには{spec.name_ja}がありません。",
                )
            )
        return out
    label = _CERTIFICATE_OF.get(pin)
    certificate = card.issuer.certificates().get(label) if label else None
    if certificate is not None and not request.certificate_expired:
        at = request.at if request.at.tzinfo else request.at.replace(tzinfo=JST)
        if certificate.not_valid_after_utc < at:
            out.append(_expired_refusal(pin))
    if new_value is not None and not spec.format.accepts(new_value):
        out.append(
            _refuse(
                RefusalCode.BAD_NEW_VALUE,
                "pin-rules.md §1",
                f"The new {spec.name_en} must be {spec.format.description_en}.",
                f"新しい{spec.name_ja}は{spec.format.description_ja}にしてください。",
            )
        )
    return out


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


def _other_refusal(other: PinName, answer: PinAnswer) -> Refusal:
    name = _name(other)
    if answer.sw == 0x6984:
        return _refuse(
            RefusalCode.OTHER_PIN_LOCKED,
            "002, 004",
            f"The {name.en} is locked on the card (6984): the kiosk cannot use it. Only the "
            "municipal window can reset now.",
            f"{name.ja}がロックされています(6984)。キオスク端末では手続きできないため、市区町村の窓口へ。",
        )
    if answer.tries_left is not None:
        left = answer.tries_left
        tail_en = " It is now locked too." if left == 0 else ""
        tail_ja = "これでロックされました。" if left == 0 else ""
        return _refuse(
            RefusalCode.OTHER_PIN_WRONG,
            "004, pin-rules.md §2",
            f"The {name.en} entered is wrong: the card counted it ({tries_phrase(left)} left).{tail_en}",
            f"入力した{name.ja}が違います。カードに誤入力として数えられました(残り{left}回)。{tail_ja}",
        )
    return _refuse(
        RefusalCode.CARD_REFUSED,
        "card",
        f"The card refused the VERIFY of the {name.en} ({answer.sw:04X}).",
        f"カードが{name.ja}の照合を拒否しました({answer.sw:04X})。",
    )


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


def reset_channels(on: date) -> list[tuple[Channel, tuple[PinName, ...], Text]]:
    """Which channel resets which PIN on ``on``, and its condition (for ``mynacard rules``)."""
    rule = kiosk_rule_on(on)
    kiosk = KIOSK_PINS[rule]
    conditions = "; ".join(f"{_name(p).en} needs the {_name(o).en}" for p, o in kiosk.items())
    conditions_ja = "、".join(f"{_name(p).ja}には{_name(o).ja}が必要" for p, o in kiosk.items())
    return [
        (
            Channel.WINDOW,
            USER_PINS,
            Text(
                "holder, legal representative or voluntary proxy (2 visits, mailed inquiry)",
                "本人・法定代理人・任意代理人(任意代理人は2回来庁、照会書の郵送)",
            ),
        ),
        (
            Channel.KIOSK,
            tuple(kiosk),
            Text(
                f"{rule.value} rule: {conditions}; app reservation valid 24 h; 6:30–23:00; holder only",
                f"{rule.value}年のルール: {conditions_ja}。アプリで予約し24時間以内、6:30~23:00、本人のみ",
            ),
        ),
    ]
