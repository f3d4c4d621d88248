"""The reset procedures (再設定・初期化) as data: channels, the rule by date, who brings what.

Every step, document and note carries the seed page it comes from (``teaching.sources``) or says
that it is an assumption. ``teaching.reset`` applies these tables to a request and a card.
Distilled in pin-rules.md §3–§5 from ``shared/seeds/`` 000–004.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta, timezone
from enum import StrEnum
from typing import Any

from card_emulator.rules import PIN_SPECS, PinName
from card_emulator.teaching.i18n import Text
from card_emulator.teaching.sources import NO_SOURCE, Fact, Source, assumed, seeds


class Channel(StrEnum):
    """Where a reset is done."""

    WINDOW = "window"  # 市区町村窓口
    KIOSK = "kiosk"  # コンビニ等のキオスク端末, after a reservation in the smartphone app


class Applicant(StrEnum):
    """Who applies at the window (pin-rules.md §5)."""

    HOLDER = "holder"  # 本人
    LEGAL_REPRESENTATIVE = "legal-representative"  # 法定代理人 (parent of a child, guardian)
    VOLUNTARY_PROXY = "voluntary-proxy"  # 任意代理人


class KioskRule(StrEnum):
    """The kiosk rule in force: what a kiosk resets, and with which other PIN."""

    RULE_2024 = "2024"  # seed 002: the signing password only, with the user-authentication PIN
    RULE_2025 = "2025"  # seed 004: either JPKI PIN, each with the other one


CHANNEL_NAMES: dict[Channel, Text] = {
    Channel.WINDOW: Text("municipal window", "市区町村の窓口"),
    Channel.KIOSK: Text("convenience-store kiosk", "コンビニ等のキオスク端末"),
}
APPLICANT_NAMES: dict[Applicant, Text] = {
    Applicant.HOLDER: Text("the holder", "本人"),
    Applicant.LEGAL_REPRESENTATIVE: Text(
        "a legal representative (parent, guardian)", "法定代理人(親権者・成年後見人など)"
    ),
    Applicant.VOLUNTARY_PROXY: Text("a voluntary proxy", "任意代理人"),
}

# ASSUMPTION: no seed gives the day the kiosk rule changed. Seed 002 (updated 2024-07-27) states the
# 2024 rule; seed 004 (2025) states the 2025 rule. We take the first day of 2025 as the cut-over.
RULE_2025_FROM = date(2025, 1, 1)
RULE_SOURCES: dict[KioskRule, Source] = {
    KioskRule.RULE_2024: seeds("002", "000"),
    KioskRule.RULE_2025: seeds("004"),
}
CUT_OVER_SOURCE = assumed(
    f"the kiosk rule changes on {RULE_2025_FROM.isoformat()}; no seed page gives the day",
    f"キオスク端末のルールは{RULE_2025_FROM.isoformat()}に変わると仮定(資料に日付なし)",
    "002",
    "004",
)

# Which PIN each rule resets at a kiosk, and the other JPKI PIN it needs (pin-rules.md §4).
KIOSK_PINS: dict[KioskRule, dict[PinName, PinName]] = {
    KioskRule.RULE_2024: {PinName.SIGNING: PinName.USER_AUTH},  # 002, 000
    KioskRule.RULE_2025: {PinName.SIGNING: PinName.USER_AUTH, PinName.USER_AUTH: PinName.SIGNING},
}
KIOSK_OPENS = time(6, 30)  # 002, 004: 6:30–23:00
KIOSK_CLOSES = time(23, 0)
HOURS_SOURCE = seeds("002", "004")
# 002: step 2 within 24 hours of the reservation, else start again. 004 names the app but not the
# limit: under the 2025 rule the 24 hours are carried over from 002, and said to be an assumption.
RESERVATION_VALID_FOR = timedelta(hours=24)
RESERVATION_SOURCES: dict[KioskRule, Source] = {
    KioskRule.RULE_2024: seeds("002"),
    KioskRule.RULE_2025: assumed(
        "the 24-hour limit is carried over from the 2024 page (002); the 2025 page (004) "
        "gives no limit",
        "24時間の期限は2024年の資料(002)から引き継いだもの。2025年の資料(004)には期限の記載なし",
        "002",
    ),
}

JST = timezone(timedelta(hours=9), "JST")  # a time without a zone is Japan time


def kiosk_rule_on(day: date) -> KioskRule:
    """The kiosk rule in force on ``day`` (the cut-over day is an assumption: CUT_OVER_SOURCE)."""
    return KioskRule.RULE_2025 if day >= RULE_2025_FROM else KioskRule.RULE_2024


def pin_text(pin: PinName) -> Text:
    """The PIN's name in both languages."""
    spec = PIN_SPECS[pin]
    return Text(spec.name_en, spec.name_ja)


# ---------------------------------------------------------------------------------------------
# Documents (本人確認書類) and plans
# ---------------------------------------------------------------------------------------------

DOCUMENTS_A = Fact(
    Text(
        "A (government photo ID): My Number Card, driver's licence, 運転経歴証明書 issued from "
        "2012-04-01, passport, 住民基本台帳カード with photo, disability handbooks, residence "
        "card, special permanent resident certificate",
        "A欄(官公署発行の顔写真付き): マイナンバーカード、運転免許証、運転経歴証明書(平成24年4月1日"
        "以降交付)、パスポート、写真付き住民基本台帳カード、身体障害者手帳等、在留カード、特別永住者証明書",
    ),
    seeds("000", "002", "004"),
)
DOCUMENTS_B = Fact(
    Text(
        "B (other): health-insurance certificate, pension handbook, medical-benefit certificate, "
        "bank book in the holder's name, employee or student ID",
        "B欄(その他): 健康保険の資格確認書等、年金手帳、医療受給者証、本人名義の預金通帳、社員証、学生証",
    ),
    seeds("000", "002", "004"),
)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a plan. ``visit`` numbers the trips to the window or the kiosk; None is not one
    (the app reservation, the post). ``source``: the seed pages it comes from."""

    visit: int | None
    where: Text
    what: Text
    brings: tuple[Text, ...] = ()
    source: Source = NO_SOURCE


@dataclass(frozen=True, slots=True)
class ResetPlan:
    """The steps, documents and notes of one reset, for one PIN, channel and applicant."""

    channel: Channel
    applicant: Applicant
    pin: PinName
    rule: KioskRule
    steps: tuple[Step, ...]
    notes: tuple[Fact, ...] = ()

    @property
    def visits(self) -> int:
        """Trips to the window or the kiosk: the last visit a step names."""
        return max((s.visit for s in self.steps if s.visit is not None), default=0)

    def as_json(self) -> dict[str, Any]:
        """``{"visits", "steps", "notes"}``, texts as ``{"en", "ja"}``, each step with its source:
        what ``pin reset --json`` and the learning page show of a plan."""
        return {
            "visits": self.visits,
            "steps": [
                {"visit": s.visit, "where": s.where.as_dict(), "what": s.what.as_dict(),
                 "brings": [b.as_dict() for b in s.brings], "source": s.source.as_dict()}
                for s in self.steps
            ],
            "notes": [n.as_dict() for n in self.notes],
        }  # fmt: skip


_WINDOW = CHANNEL_NAMES[Channel.WINDOW]
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
_PROXY_TWO = Text(
    "the proxy's two IDs: A+B or A+A", "代理人の本人確認書類2点: A欄2点、またはA欄とB欄から1点ずつ"
)
_REPRESENTATIVE_IDS = Text(
    "the representative's IDs: A+B or A+A (004: one A)",
    "法定代理人の本人確認書類: A欄2点またはA欄とB欄から1点ずつ(004: A欄1点)",
)
_PROOF = Text(
    "proof of the representation: 戸籍謄本 for a child, 登記事項証明書 for an adult ward "
    "(not needed when the city can confirm it itself)",
    "代理権を証明する書類: 未成年は戸籍謄本、成年被後見人は登記事項証明書(市区町村で確認できる場合は不要)",
)

# The window in one visit: who applies (then the new PIN is set), what they bring, the source.
ONE_VISIT: dict[Applicant, tuple[Text, tuple[Text, ...], Source]] = {
    Applicant.HOLDER: (
        Text("staff check the ID; the holder ", "本人確認の後、本人が"),
        (_HOLDER_CARD, _HOLDER_ID, _FORM),
        seeds("000", "002", "003", "004"),
    ),
    Applicant.LEGAL_REPRESENTATIVE: (
        Text("the representative applies; ", "法定代理人が申請し、"),
        (_HOLDER_CARD, _HOLDER_ID, _REPRESENTATIVE_IDS, _PROOF),
        seeds("000", "002", "003", "004"),
    ),
}
# A voluntary proxy: two visits around a mailed inquiry; the holder writes the new PIN on it.
PROXY_STEPS: tuple[Step, ...] = (
    Step(1, _WINDOW, Text("the proxy applies", "任意代理人が申請"),
         (_HOLDER_CARD, _PROXY_A, _LETTER), seeds("000", "002", "003")),
    Step(None, _POST, Text(
        "the city mails an inquiry (照会書/回答書) 転送不要: not forwarded. The holder writes the "
        "new PIN on it and hides it (blind seal or sealed envelope)",
        "市区町村が照会書(回答書)を転送不要郵便で送付。本人が新しい暗証番号を記入し、"
        "目隠しシールまたは封筒で隠す",
    ), (), seeds("000", "001", "002", "004")),
    Step(2, _WINDOW, Text(
        "the proxy brings the reply; staff type the PIN, the proxy never sees it",
        "代理人が回答書を持参。暗証番号は職員が入力し、代理人には見えません",
    ), (_REPLY, _HOLDER_CARD, _HOLDER_ID, _PROXY_TWO, _LETTER), seeds("000", "002", "004")),
)  # fmt: skip


def _notes(*rows: tuple[str, str, Source]) -> tuple[Fact, ...]:
    return tuple(Fact(Text(en, ja), source) for en, ja, source in rows)


WINDOW_NOTES: dict[Applicant, tuple[Fact, ...]] = {
    Applicant.HOLDER: _notes(
        ("Some cities ask only for the card (000); others for one more ID (002, 003).",
         "カードのみの市区町村(000)と、もう1点の本人確認書類を求める市区町村(002, 003)があります。",
         seeds("000", "002", "003")),
        ("A minor or an adult ward comes with the legal representative.",
         "未成年者・成年被後見人等は法定代理人が同行します。", seeds("004")),
        ("Window hours differ by city (weekday daytime, some evenings and Sundays); on system-down "
         "days nothing can be done.",
         "窓口の受付時間は市区町村ごとに異なります(平日昼間、一部夜間・日曜)。システム停止日は手続きできません。",
         seeds("000", "003", "004")),
    ),
    Applicant.LEGAL_REPRESENTATIVE: _notes(
        ("For a child under 15 or an adult ward: same day, one visit.",
         "15歳未満・成年被後見人の場合。1回の来庁で即日完了。", seeds("000", "001", "002")),
    ),
    Applicant.VOLUNTARY_PROXY: _notes(
        ("Never done the same day.", "即日の手続きはできません。", seeds("000", "002", "003")),
        ("Kanazawa takes three visits (the form is taken home first), the last within 30 days "
         "of the previous one.",
         "金沢市は3回の来庁(申請書を持ち帰って記入)、最後は前回から30日以内。", seeds("004")),
        ("The reply is rejected if incomplete or if the PIN is not hidden: a new inquiry.",
         "回答書の記入不足や暗証番号の目隠しがない場合は、改めて文書照会。", seeds("004")),
        ("One blog adds proof that the holder cannot come; work reasons are not accepted.",
         "本人が来庁できないことの疎明資料を求める例もあり、仕事の都合は認められません。", seeds("001")),
    ),
}  # fmt: skip
KIOSK_NOTES: tuple[Fact, ...] = _notes(
    (
        "Free of charge; store staff cannot help.",
        "手数料無料。店員は案内できません。",
        seeds("002"),
    ),
)


def new_pin_text(pin: PinName) -> Text:
    """ "set the new … (format); it may equal the old one" (seed 001)."""
    spec = PIN_SPECS[pin]
    return Text(
        f"set the new {spec.name_en} ({spec.format.description_en}); it may equal the old one",
        f"新しい{spec.name_ja}({spec.format.description_ja})を設定。以前と同じ値も可",
    )


def kiosk_steps(pin: PinName, rule: KioskRule) -> tuple[Step, ...]:
    """Step 1 in the smartphone app, step 2 at the kiosk; both ask for the other JPKI PIN."""
    other = pin_text(KIOSK_PINS[KioskRule.RULE_2025].get(pin, PinName.USER_AUTH))
    new_pin = new_pin_text(pin)
    hours = RESERVATION_VALID_FOR.total_seconds() / 3600
    app_source = seeds("002") if rule == KioskRule.RULE_2024 else assumed(
        "face authentication in the app is stated by the 2024 page (002) only",
        "アプリでの顔認証は2024年の資料(002)のみに記載", "002", "004",
    )  # fmt: skip
    reservation = RESERVATION_SOURCES[rule]
    kiosk_source = Source(
        tuple(sorted({*HOURS_SOURCE.seeds, *reservation.seeds, *RULE_SOURCES[rule].seeds})),
        reservation.assumption,
    )
    return (
        Step(None, _APP, Text(
            f"step 1: read the card, enter the {other.en}, pass face authentication: "
            "a reservation, possible at any hour",
            f"ステップ1: カードを読み取り、{other.ja}を入力し顔認証を行う(事前予約、24時間可能)",
        ), (_HOLDER_CARD, Text("an NFC smartphone with the app", "NFC対応スマートフォンと専用アプリ")),
            app_source),
        Step(1, _KIOSK, Text(
            f"step 2, within {hours:.0f} hours, {KIOSK_OPENS:%-H:%M}–{KIOSK_CLOSES:%-H:%M}: set the "
            f"card, enter the {other.en}, then {new_pin.en}",
            f"ステップ2({hours:.0f}時間以内、{KIOSK_OPENS:%-H:%M}~{KIOSK_CLOSES:%-H:%M}): "
            f"カードをセットし{other.ja}を入力、{new_pin.ja}",
        ), (_HOLDER_CARD,), kiosk_source),
    )  # fmt: skip


def plan_for(pin: PinName, channel: Channel, applicant: Applicant, on: date) -> ResetPlan:
    """The steps, documents and visits for a reset (pin-rules.md §4–§5). Pure; no refusal checks."""
    rule = kiosk_rule_on(on)
    steps: tuple[Step, ...]
    if channel == Channel.KIOSK:
        lapse = Fact(
            Text(
                "After 24 hours the reservation lapses: start again at step 1.",
                "予約から24時間を過ぎたらステップ1からやり直し。",
            ),
            RESERVATION_SOURCES[rule],
        )
        return ResetPlan(channel, applicant, pin, rule, kiosk_steps(pin, rule),
                         (*KIOSK_NOTES, lapse))  # fmt: skip
    if applicant in ONE_VISIT:
        who, brings, source = ONE_VISIT[applicant]
        new_pin = new_pin_text(pin)
        what = Text(who.en + new_pin.en, who.ja + new_pin.ja)
        steps = (Step(1, _WINDOW, what, brings, source),)
    else:
        steps = PROXY_STEPS
    return ResetPlan(channel, applicant, pin, rule, steps, WINDOW_NOTES[applicant])
