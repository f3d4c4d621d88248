"""Why a reset is refused: the codes, the words in both languages and the seed page of each rule.

A table (pin-rules.md §3–§5); ``teaching.reset`` finds which refusals apply to a request and fills
in the PIN names, times and counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from card_emulator.teaching.i18n import Text
from card_emulator.teaching.reset_data import HOURS_SOURCE
from card_emulator.teaching.sources import Source, seeds


class RefusalCode(StrEnum):
    """Why a reset is refused; stable names for scenarios and JSON."""

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


_CARD = Source(spec="the card's answer")
_FORMAT = Source(seeds=("004", "001"), spec="pin-rules.md §1")

# Each refusal: where the rule comes from and its words; {pin}, {other}, {rule}, {at}, {hours},
# {left}, {sw}, {problems} are filled in by the check that finds it.
_REFUSALS: dict[RefusalCode, tuple[Source, str, str]] = {
    RefusalCode.KIOSK_FOUR_DIGIT: (seeds("002", "004"),
        "The {pin} (4 digits) cannot be reset at a kiosk: only at the municipal window.",
        "{pin}(数字4桁)はキオスク端末では再設定できません。市区町村の窓口へ。"),
    RefusalCode.KIOSK_2024_SIGNING_ONLY: (seeds("002"),
        "Under the {rule} rule kiosks reset only the signing password; the {pin} (4 digits) needs "
        "the municipal window. (The 2025 rule adds it: seed 004.)",
        "{rule}年のルールではキオスク端末で再設定できるのは署名用の暗証番号だけです。{pin}(数字4桁)は"
        "窓口へ(2025年のルールでは可能: 資料004)。"),
    RefusalCode.KIOSK_HOLDER_ONLY: (seeds("002"),
        "The kiosk path is for the holder only: step 1 authenticates the holder's face.",
        "キオスク端末での再設定は本人のみです(ステップ1で本人の顔認証を行います)。"),
    RefusalCode.KIOSK_CLOSED: (HOURS_SOURCE,
        "Kiosks offer this from 6:30 to 23:00; it is {at}.",
        "キオスク端末の手続き時間は6:30~23:00です(現在{at})。"),
    RefusalCode.NO_RESERVATION: (seeds("002", "004"),
        "No reservation: first do step 1 in the smartphone app (read the card, enter the other "
        "JPKI PIN, face authentication).",
        "事前予約がありません。先にスマートフォンアプリでステップ1(カード読み取り、もう一方の暗証番号の"
        "入力、顔認証)を行ってください。"),
    RefusalCode.RESERVATION_EXPIRED: (seeds("002"),
        "The reservation was made {hours} before; it is valid for 24 hours. Start again at step 1.",
        "予約は{hours}前で、有効期間の24時間を過ぎています。ステップ1からやり直してください。"),
    RefusalCode.BOTH_JPKI_UNKNOWN: (seeds("004"),
        "Both JPKI PINs are unknown (the {pin} to reset and the {other} the kiosk asks for): only "
        "the municipal window can reset them.",
        "両方の暗証番号が不明です({pin}と、キオスク端末で必要な{other})。市区町村の窓口でのみ"
        "再設定できます。"),
    RefusalCode.OTHER_PIN_WRONG: (Source(("004",), spec="pin-rules.md §2"),
        "The {other} entered is wrong: the card counted it ({left} left).",
        "入力した{other}が違います。カードに誤入力として数えられました(残り{left})。"),
    RefusalCode.OTHER_PIN_LOCKED: (seeds("002", "004"),
        "The {other} is locked on the card (6984): the kiosk cannot use it. Only the municipal "
        "window can reset now.",
        "{other}がロックされています(6984)。キオスク端末では手続きできないため、市区町村の窓口へ。"),
    RefusalCode.CERTIFICATE_EXPIRED: (seeds("004"),
        "The certificate behind the {pin} has expired: that is not fixed by a PIN reset. The "
        "certificate is re-issued at the municipal window.",
        "{pin}の電子証明書は有効期限切れです。暗証番号の再設定では解決せず、市区町村の窓口で"
        "電子証明書の再発行が必要です。"),
    RefusalCode.NO_SIGNING_CERTIFICATE: (seeds("004"),
        "This card has no signing certificate (not issued by default under 15 or to adult wards): "
        "there is no signing password to reset. It can be issued at the window.",
        "このカードには署名用電子証明書がありません(15歳未満・成年被後見人には原則発行しません)。"
        "再設定する暗証番号がありません。希望すれば窓口で発行できます。"),
    RefusalCode.PIN_NOT_ON_CARD: (_CARD,
        "This card has no {pin}.", "このカードには{pin}がありません。"),
    RefusalCode.BAD_NEW_VALUE: (_FORMAT,
        "The new {pin} must be {format}.", "新しい{pin}は{format}にしてください。"),
    RefusalCode.INQUIRY_NOT_FORWARDED: (seeds("004", "000"),
        "The inquiry is mailed 転送不要 (not forwarded) to the holder's registered address: with "
        "mail forwarding in place it never arrives. Cancel the forwarding first.",
        "照会書は住民票の住所へ転送不要郵便で送られます。転送届を出していると届かないため、"
        "事前に転送届を解除してください。"),
    RefusalCode.REPLY_REJECTED: (seeds("004"),
        "The inquiry reply is rejected ({problems}): a new inquiry and another visit are needed.",
        "回答書は受け付けられません({problems})。改めて文書照会と来庁が必要です。"),
    RefusalCode.CARD_REFUSED: (_CARD,
        "The card refused the VERIFY of the {other} ({sw}).",
        "カードが{other}の照合を拒否しました({sw})。"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Refusal:
    """A reason a reset cannot be done, in both languages, with the source of the rule."""

    code: RefusalCode
    text: Text
    source: Source


def refuse(code: RefusalCode, **values: Text | str) -> Refusal:
    """The refusal ``code`` with its words filled in (``{pin}``, ``{other}``, …) and its source."""
    source, en, ja = _REFUSALS[code]

    def fill(template: str, lang: str) -> str:
        return template.format(
            **{k: v(lang) if isinstance(v, Text) else v for k, v in values.items()}
        )

    return Refusal(code, Text(fill(en, "en"), fill(ja, "ja")), source)
