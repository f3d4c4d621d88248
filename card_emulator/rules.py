"""Every rule of the card as data: applications, PINs, files and who opens them, the PIN lifecycle.

The card enforces these tables, and the teaching commands, the README tables and the state diagram
are rendered from them, so the card and its documentation cannot disagree.

Sources: ``shared/spec/card-interface.md`` (§ numbers below) and ``shared/spec/pin-rules.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, StrEnum


class AppName(StrEnum):
    """The applications (AP) this card carries."""

    JPKI = "jpki"  # 公的個人認証AP
    TEXT = "text"  # 券面事項入力補助AP
    JUKI = "juki"  # 住基AP
    SURFACE = "surface"  # 券面事項確認AP (card-surface AP)
    COMMON = "common"  # 共通カードAP (本人確認業務用)


# Application identifiers (card-interface.md §3)
APP_AIDS: dict[AppName, bytes] = {
    AppName.JPKI: bytes.fromhex("D392F000260100000001"),
    AppName.TEXT: bytes.fromhex("D3921000310001010408"),
    AppName.JUKI: bytes.fromhex("D3921000310001010401"),
    AppName.SURFACE: bytes.fromhex("D3921000310001010402"),
    AppName.COMMON: bytes.fromhex("D3921000310001010100"),
}


class PinName(StrEnum):
    """Every key reference that VERIFY can open."""

    SIGNING = "signing"  # 署名用電子証明書の暗証番号, JPKI 001B
    USER_AUTH = "user_auth"  # 利用者証明用電子証明書の暗証番号, JPKI 0018
    RESIDENT_REGISTRY = "resident_registry"  # 住民基本台帳用の暗証番号, 住基 001C
    TEXT_INPUT_HELPER = "text_input_helper"  # 券面事項入力補助用の暗証番号, text 0011
    TEXT_CODE_A = "text_code_a"  # 照合番号A (the My Number), text 0014
    TEXT_CODE_B = "text_code_b"  # 照合番号B (era-year YYMMDD + expiry year + code), text 0015
    SURFACE_BIRTH_DATE = "surface_birth_date"  # 生年月日 (era-year YYMMDD), 券面AP 0011
    SURFACE_CODE_B = "surface_code_b"  # 照合番号B, 券面AP 0012
    SURFACE_CODE_A = "surface_code_a"  # 照合番号A (the My Number), 券面AP 0013
    COMMON = "common"  # 共通カードAP's own PIN, 001C (separate from 住基AP 001C)


# The four PINs a holder sets and may lock (pin-rules.md §1); A and B are derived from the card face.
USER_PINS: tuple[PinName, ...] = (
    PinName.SIGNING,
    PinName.USER_AUTH,
    PinName.RESIDENT_REGISTRY,
    PinName.TEXT_INPUT_HELPER,
)


@dataclass(frozen=True, slots=True)
class PinFormat:
    """What a value must look like: a full-match regular expression and its description."""

    pattern: str
    min_length: int
    max_length: int
    description_en: str
    description_ja: str

    def accepts(self, value: str) -> bool:
        return re.fullmatch(self.pattern, value) is not None


FOUR_DIGITS = PinFormat(r"[0-9]{4}", 4, 4, "4 digits", "数字4桁")
# 6–16 of upper-case A–Z and 0–9, at least one letter and one digit (pin-rules.md §1, card-interface.md §10.1).
SIGNING_PASSWORD = PinFormat(
    r"(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*[0-9])[A-Z0-9]{6,16}",
    6,
    16,
    "6-16 characters of upper-case A-Z and 0-9, with at least one letter and one digit",
    "英大文字(A-Z)と数字(0-9)の6~16文字、英字と数字をそれぞれ1文字以上",
)
TWELVE_DIGITS = PinFormat(r"[0-9]{12}", 12, 12, "12 digits (the My Number)", "数字12桁(個人番号)")
SIX_DIGITS = PinFormat(
    r"[0-9]{6}", 6, 6, "6 digits: birth date as era-year YYMMDD", "数字6桁: 生年月日(和暦YYMMDD)"
)
FOURTEEN_DIGITS = PinFormat(
    r"[0-9]{14}",
    14,
    14,
    "14 digits: birth date as era-year YYMMDD, card expiry year YYYY, 4-digit security code",
    "数字14桁: 生年月日(和暦YYMMDD)+有効期限の西暦年+セキュリティコード4桁",
)


class ChangeCommand(Enum):
    """How the holder changes a PIN (card-interface.md §2.5): CLA INS P1 P2."""

    CHANGE_REFERENCE_DATA = (0x00, 0x24, 0x01, 0x80)  # JPKI and text AP
    CHANGE_KEY = (0x80, 0x32, 0x00, 0x80)  # JICSAP CHANGE KEY, 住基AP and 共通AP


@dataclass(frozen=True, slots=True)
class PinSpec:
    name: PinName
    app: AppName
    fid: int
    max_tries: int
    format: PinFormat
    change: ChangeCommand | None
    name_ja: str
    name_en: str
    purpose_ja: str
    purpose_en: str


PIN_SPECS: dict[PinName, PinSpec] = {
    spec.name: spec
    for spec in (
        PinSpec(
            PinName.SIGNING,
            AppName.JPKI,
            0x001B,
            5,
            SIGNING_PASSWORD,
            ChangeCommand.CHANGE_REFERENCE_DATA,
            "署名用電子証明書の暗証番号",
            "signing password",
            "e-Taxの申告、携帯電話の契約、銀行口座開設、各種オンライン申請などの電子署名",
            "electronic signatures: e-Tax returns, mobile-phone contracts, bank accounts, "
            "online applications",
        ),
        PinSpec(
            PinName.USER_AUTH,
            AppName.JPKI,
            0x0018,
            3,
            FOUR_DIGITS,
            ChangeCommand.CHANGE_REFERENCE_DATA,
            "利用者証明用電子証明書の暗証番号",
            "user-authentication PIN",
            "マイナポータルへのログイン、コンビニ交付、健康保険証としての利用",
            "logging in to Mynaportal, certificates at convenience stores, health-insurance use",
        ),
        PinSpec(
            PinName.RESIDENT_REGISTRY,
            AppName.JUKI,
            0x001C,
            3,
            FOUR_DIGITS,
            ChangeCommand.CHANGE_KEY,
            "住民基本台帳用の暗証番号",
            "resident-registry PIN",
            "住所変更などカード記録事項の変更、住民票コードのテキスト利用",
            "changes of the card's data (address change, ...); the resident-record code as text",
        ),
        PinSpec(
            PinName.TEXT_INPUT_HELPER,
            AppName.TEXT,
            0x0011,
            3,
            FOUR_DIGITS,
            ChangeCommand.CHANGE_REFERENCE_DATA,
            "券面事項入力補助用の暗証番号",
            "text-input-helper PIN",
            "氏名・住所・生年月日・性別・個人番号をテキストで読み取る",
            "apps and kiosks read name, address, birth date, sex and My Number as text",
        ),
        # Retry limits of 照合番号A/B are not public (card-interface.md §5.6): 10, configurable later.
        PinSpec(
            PinName.TEXT_CODE_A,
            AppName.TEXT,
            0x0014,
            10,
            TWELVE_DIGITS,
            None,
            "照合番号A",
            "verification code A",
            "個人番号を照合番号として使い、個人番号を読み取る",
            "the My Number itself, used as a key to read the My Number",
        ),
        PinSpec(
            PinName.TEXT_CODE_B,
            AppName.TEXT,
            0x0015,
            10,
            FOURTEEN_DIGITS,
            None,
            "照合番号B",
            "verification code B",
            "券面の生年月日・有効期限・セキュリティコードで基本4情報を読み取る",
            "birth date, expiry year and security code from the card face, to read the basic four",
        ),
        # 券面事項確認AP keys (card-interface.md §6.1): their retry limits are not public either;
        # 10 like the text AP's A/B, and a card can be issued with others (issue_card max_tries).
        PinSpec(
            PinName.SURFACE_BIRTH_DATE,
            AppName.SURFACE,
            0x0011,
            10,
            SIX_DIGITS,
            None,
            "生年月日(券面事項確認AP)",
            "birth-date key (card-surface AP)",
            "生年月日6桁で年齢確認用の記録(生年月日と署名)だけを読み取る",
            "the birth date alone opens the age-verification record and nothing more",
        ),
        PinSpec(
            PinName.SURFACE_CODE_B,
            AppName.SURFACE,
            0x0012,
            10,
            FOURTEEN_DIGITS,
            None,
            "照合番号B(券面事項確認AP)",
            "verification code B (card-surface AP)",
            "券面の画像(氏名・住所・顔写真など)を読み取る。個人番号の画像は読めない",
            "reads the card face images (name, address, photo, ...), not the My Number image",
        ),
        PinSpec(
            PinName.SURFACE_CODE_A,
            AppName.SURFACE,
            0x0013,
            10,
            TWELVE_DIGITS,
            None,
            "照合番号A(券面事項確認AP)",
            "verification code A (card-surface AP)",
            "個人番号で券面の画像と個人番号の画像を読み取る",
            "the My Number opens the card face images and the My Number image",
        ),
        # 共通カードAP PIN (card-interface.md §7.2): 4 digits, 3 tries like 住基AP's, its own counter.
        PinSpec(
            PinName.COMMON,
            AppName.COMMON,
            0x001C,
            3,
            FOUR_DIGITS,
            ChangeCommand.CHANGE_KEY,
            "共通カードAPの暗証番号",
            "common-AP PIN",
            "本人確認業務用領域の暗証番号(住基の暗証番号と同じ値で発行、回数は別)",
            "the identity-check area's PIN (issued with the resident-registry value, own counter)",
        ),
    )
}

# Key references whose retry limit no public source gives (card-interface.md §5.6, §6.1, §14): the
# tables say 10, and a card may be issued with another (issue_card(max_tries=...)).
CONFIGURABLE_TRIES: frozenset[PinName] = frozenset(
    {
        PinName.TEXT_CODE_A,
        PinName.TEXT_CODE_B,
        PinName.SURFACE_BIRTH_DATE,
        PinName.SURFACE_CODE_A,
        PinName.SURFACE_CODE_B,
    }
)

PIN_BY_LOCATION: dict[tuple[AppName, int], PinName] = {
    (spec.app, spec.fid): spec.name for spec in PIN_SPECS.values()
}

# PINs 2–4 may share a value but keep separate counters (pin-rules.md §1, seed 004); the signing
# password cannot equal them because its format differs (seed 001).
MAY_SHARE_VALUE: frozenset[PinName] = frozenset(
    {PinName.USER_AUTH, PinName.RESIDENT_REGISTRY, PinName.TEXT_INPUT_HELPER}
)


class FileKind(StrEnum):
    TRANSPARENT = "transparent"  # READ BINARY
    RECORD = "record"  # READ RECORD
    PRIVATE_KEY = "private_key"  # usable by COMPUTE DIGITAL SIGNATURE, never readable (6981)
    PIN = "pin"  # a key reference for VERIFY, never readable (6981)
    SECRET = "secret"  # data for issuer terminals only: every user read answers 6982
    BLOCKED = "blocked"  # a key reference blocked at issuance: query 63C0, VERIFY 6984, no value


@dataclass(frozen=True, slots=True)
class FileRule:
    """One elementary file (EF): which PINs open it. ``opened_by`` empty means free."""

    app: AppName
    fid: int
    kind: FileKind
    opened_by: frozenset[PinName]
    content_en: str
    content_ja: str
    required: bool = True  # False: absent on some cards (no signing certificate under 15)

    @property
    def free(self) -> bool:
        return not self.opened_by and self.kind in (FileKind.TRANSPARENT, FileKind.RECORD)


def _rule(
    app: AppName,
    fid: int,
    kind: FileKind,
    opened_by: tuple[PinName, ...],
    content_en: str,
    content_ja: str,
    *,
    required: bool = True,
) -> FileRule:
    return FileRule(app, fid, kind, frozenset(opened_by), content_en, content_ja, required)


_J, _T, _R = AppName.JPKI, AppName.TEXT, AppName.JUKI
_S, _C = AppName.SURFACE, AppName.COMMON
_BIN, _REC, _KEY = FileKind.TRANSPARENT, FileKind.RECORD, FileKind.PRIVATE_KEY
_T_ANY = (PinName.TEXT_INPUT_HELPER, PinName.TEXT_CODE_A, PinName.TEXT_CODE_B)
_S_AB = (PinName.SURFACE_CODE_A, PinName.SURFACE_CODE_B)

# fmt: off
FILE_RULES: tuple[FileRule, ...] = (
    # JPKI AP (card-interface.md §4.1)
    _rule(_J, 0x0001, _BIN, (PinName.SIGNING,), "signing certificate", "署名用電子証明書",
          required=False),
    _rule(_J, 0x0002, _BIN, (), "signing CA certificate", "署名用CA証明書"),
    _rule(_J, 0x0006, _BIN, (), "token information", "トークン情報"),
    _rule(_J, 0x0008, _BIN, (), "certificate availability", "証明書の有無"),
    _rule(_J, 0x000A, _BIN, (), "user-authentication certificate", "利用者証明用電子証明書"),
    _rule(_J, 0x000B, _BIN, (), "user-authentication CA certificate", "利用者証明用CA証明書"),
    _rule(_J, 0x0017, FileKind.PRIVATE_KEY, (PinName.USER_AUTH,),
          "user-authentication private key", "利用者証明用秘密鍵"),
    _rule(_J, 0x0018, FileKind.PIN, (), "user-authentication PIN", "利用者証明用暗証番号"),
    _rule(_J, 0x001A, FileKind.PRIVATE_KEY, (PinName.SIGNING,), "signing private key",
          "署名用秘密鍵", required=False),
    _rule(_J, 0x001B, FileKind.PIN, (), "signing password", "署名用暗証番号"),
    # 券面事項入力補助AP (card-interface.md §5.1)
    _rule(_T, 0x0001, _BIN, (PinName.TEXT_INPUT_HELPER, PinName.TEXT_CODE_A),
          "My Number", "個人番号"),
    _rule(_T, 0x0002, _BIN, (PinName.TEXT_INPUT_HELPER, PinName.TEXT_CODE_B),
          "basic four: name, address, birth date, sex", "基本4情報(氏名・住所・生年月日・性別)"),
    _rule(_T, 0x0003, _BIN,
          (PinName.TEXT_INPUT_HELPER, PinName.TEXT_CODE_A, PinName.TEXT_CODE_B),
          "integrity record (digests and signature)", "真正性確認用の署名"),
    _rule(_T, 0x0004, _BIN, (), "CV certificate of the issuer key", "CV証明書"),
    _rule(_T, 0x0005, _BIN, (), "application basic information", "AP基本情報"),
    _rule(_T, 0x0006, _BIN, _T_ANY, "public key for SET SESSION KEY (secure messaging)",
          "セキュアメッセージング用の公開鍵"),
    _rule(_T, 0x0007, _BIN, _T_ANY, "signed public key of the AP key 0013",
          "AP鍵0013の公開鍵と発行者の署名"),
    # EF 0008: 16 × FF on cards, who opens it unknown (§5.1): like its neighbours, our choice.
    _rule(_T, 0x0008, _BIN, _T_ANY, "unknown (16 × FF)", "不明(FFが16バイト)"),
    _rule(_T, 0x0011, FileKind.PIN, (), "text-input-helper PIN", "券面事項入力補助用暗証番号"),
    _rule(_T, 0x0012, FileKind.BLOCKED, (), "key reference blocked on every card (purpose unknown)",
          "全カードでロック済みの鍵参照(用途不明)"),
    _rule(_T, 0x0013, _KEY, (), "AP key: signs challenges (80 2A 00 00), no PIN",
          "AP鍵: チャレンジに署名(80 2A 00 00)、暗証番号不要"),
    _rule(_T, 0x0014, FileKind.PIN, (), "verification code A", "照合番号A"),
    _rule(_T, 0x0015, FileKind.PIN, (), "verification code B", "照合番号B"),
    # 住基AP (card-interface.md §7.1). Where the 住民票コード lives is not public: EF 0003 is our choice.
    _rule(_R, 0x0002, _REC, (), "key reference record", "鍵参照レコード"),
    _rule(_R, 0x0003, FileKind.SECRET, (), "resident-record code (住民票コード), issuer terminals only",
          "住民票コード(住基ネット端末専用)"),
    _rule(_R, 0x001C, FileKind.PIN, (), "resident-registry PIN", "住民基本台帳用暗証番号"),
    # 券面事項確認AP (card-interface.md §6.1): A reaches 0002–0006, B the same without 0005.
    _rule(_S, 0x0001, _BIN, (PinName.SURFACE_BIRTH_DATE,),
          "age-verification record: birth date, card key, signature", "年齢確認用記録(生年月日・署名)"),
    _rule(_S, 0x0002, _BIN, _S_AB, "card face: birth date, sex, name, address, photo, expiry",
          "券面事項(生年月日・性別・氏名・住所・顔写真・有効期限)"),
    _rule(_S, 0x0003, _BIN, (), "application basic information", "AP基本情報"),
    _rule(_S, 0x0004, _BIN, (), "CV certificate of the issuer key", "CV証明書"),
    _rule(_S, 0x0005, _BIN, (PinName.SURFACE_CODE_A,), "My Number as an image, signed",
          "個人番号の画像(署名付き)"),
    # EF 0006: content unknown (§6.1); 16 × FF is our choice.
    _rule(_S, 0x0006, _BIN, _S_AB, "unknown (16 × FF)", "不明(FFが16バイト)"),
    _rule(_S, 0x0011, FileKind.PIN, (), "birth-date key", "生年月日"),
    _rule(_S, 0x0012, FileKind.PIN, (), "verification code B", "照合番号B"),
    _rule(_S, 0x0013, FileKind.PIN, (), "verification code A", "照合番号A"),
    _rule(_S, 0x001A, _KEY, (), "card key: signs challenges (80 2A 00 00), no PIN",
          "カード鍵: チャレンジに署名(80 2A 00 00)、暗証番号不要"),
    # 共通カードAP (card-interface.md §7.2)
    _rule(_C, 0x0001, _REC, (), "card information: serial, municipality code, expiry",
          "カード情報(製造番号・全国地方公共団体コード・有効期限)"),
    _rule(_C, 0x0002, _REC, (), "key reference record", "鍵参照レコード"),
    _rule(_C, 0x0019, _KEY, (), "key for INTERNAL AUTHENTICATE, no PIN",
          "INTERNAL AUTHENTICATE用の鍵、暗証番号不要"),
    _rule(_C, 0x001C, FileKind.PIN, (), "common-AP PIN", "共通カードAPの暗証番号"),
)
# fmt: on

FILE_RULE_BY_LOCATION: dict[tuple[AppName, int], FileRule] = {
    (rule.app, rule.fid): rule for rule in FILE_RULES
}

# Private keys used with no PIN: which instruction each answers (card-interface.md §2.6, §2.7).
# INTERNAL AUTHENTICATE reaches only 共通AP 0019; the 券面 APs' keys sign with 80 2A 00 00 (P2 = 00:
# the AP's default key) and answer INTERNAL AUTHENTICATE with 6985.
INTERNAL_AUTHENTICATION_KEYS: frozenset[tuple[AppName, int]] = frozenset({(AppName.COMMON, 0x0019)})
AP_SIGNING_KEYS: dict[AppName, int] = {AppName.TEXT: 0x0013, AppName.SURFACE: 0x001A}
# The private half of text EF 0006 (a public key EF): decrypts SET SESSION KEY (§5.7). Kept with the
# card's keys under the EF's own location; no EF of the card exposes it.
SESSION_KEY_LOCATION: tuple[AppName, int] = (AppName.TEXT, 0x0006)


# ---------------------------------------------------------------------------------------------
# The lifecycle of one PIN (pin-rules.md §2, §3, §6; card-interface.md §2.4, §10.2)
# ---------------------------------------------------------------------------------------------


class PinState(StrEnum):
    READY = "ready"  # tries left, not verified since the last select or power-on
    VERIFIED = "verified"  # a correct entry since the last select or power-on
    LOCKED = "locked"  # no tries left; absorbing until an issuer reset


class PinEvent(StrEnum):
    QUERY = "query"  # VERIFY with no data
    WRONG_ENTRY = "wrong_entry"  # VERIFY with a wrong value (a value of the wrong format counts)
    CORRECT_ENTRY = "correct_entry"
    CHANGE = "change"  # CHANGE REFERENCE DATA / CHANGE KEY
    DESELECT = "deselect"  # SELECT of any DF, power-off, reset
    ISSUER_RESET = "issuer_reset"  # 再設定・初期化 at the window or a kiosk (not an APDU)


@dataclass(frozen=True, slots=True)
class Transition:
    state: PinState
    event: PinEvent
    next_state: PinState | None  # None: READY if tries remain after the event, else LOCKED
    counter_en: str
    counter_ja: str
    answer: str  # the status word(s) the card gives, as the card gives them
    answer_ja: str


# fmt: off
PIN_TRANSITIONS: tuple[Transition, ...] = (
    Transition(PinState.READY, PinEvent.QUERY, PinState.READY,
               "unchanged", "変化なし", "63Cx (x = tries left)", "63Cx (x = 残り回数)"),
    Transition(PinState.READY, PinEvent.WRONG_ENTRY, None,
               "minus one", "1減る", "63Cx (x = tries left); 63C0 on the last", "63Cx (x = 残り回数); 最後の1回は63C0"),
    Transition(PinState.READY, PinEvent.CORRECT_ENTRY, PinState.VERIFIED,
               "back to the maximum", "最大値に戻る", "9000", "9000"),
    Transition(PinState.READY, PinEvent.CHANGE, PinState.READY,
               "unchanged", "変化なし", "6982 (verify first)", "6982 (先に照合が必要)"),
    Transition(PinState.READY, PinEvent.DESELECT, PinState.READY,
               "unchanged", "変化なし", "-", "-"),
    Transition(PinState.READY, PinEvent.ISSUER_RESET, PinState.READY,
               "back to the maximum", "最大値に戻る", "(issuer operation)", "(発行者の操作)"),
    Transition(PinState.VERIFIED, PinEvent.QUERY, PinState.VERIFIED,
               "unchanged", "変化なし", "63Cx (the full count)", "63Cx (最大回数)"),
    Transition(PinState.VERIFIED, PinEvent.WRONG_ENTRY, None,
               "minus one, and no longer verified", "1減り、照合済みでなくなる", "63Cx", "63Cx"),
    Transition(PinState.VERIFIED, PinEvent.CORRECT_ENTRY, PinState.VERIFIED,
               "back to the maximum", "最大値に戻る", "9000", "9000"),
    Transition(PinState.VERIFIED, PinEvent.CHANGE, PinState.VERIFIED,
               "back to the maximum, new value", "最大値、新しい値", "9000; 6A80 for a bad format", "9000; 新しい値の形式違いは6A80"),
    Transition(PinState.VERIFIED, PinEvent.DESELECT, PinState.READY,
               "unchanged", "変化なし", "-", "-"),
    Transition(PinState.VERIFIED, PinEvent.ISSUER_RESET, PinState.READY,
               "back to the maximum", "最大値に戻る", "(issuer operation)", "(発行者の操作)"),
    Transition(PinState.LOCKED, PinEvent.QUERY, PinState.LOCKED,
               "0", "0のまま", "63C0", "63C0"),
    Transition(PinState.LOCKED, PinEvent.WRONG_ENTRY, PinState.LOCKED,
               "0", "0のまま", "6984", "6984"),
    Transition(PinState.LOCKED, PinEvent.CORRECT_ENTRY, PinState.LOCKED,
               "0 (the correct value is refused too)", "0のまま(正しい値も拒否)", "6984", "6984"),
    Transition(PinState.LOCKED, PinEvent.CHANGE, PinState.LOCKED,
               "0", "0のまま", "6984", "6984"),
    Transition(PinState.LOCKED, PinEvent.DESELECT, PinState.LOCKED,
               "0", "0のまま", "-", "-"),
    Transition(PinState.LOCKED, PinEvent.ISSUER_RESET, PinState.READY,
               "back to the maximum, new value", "最大値、新しい値", "(issuer operation)", "(発行者の操作)"),
)
# fmt: on

TRANSITION_TABLE: dict[tuple[PinState, PinEvent], Transition] = {
    (t.state, t.event): t for t in PIN_TRANSITIONS
}
assert len(TRANSITION_TABLE) == len(PinState) * len(PinEvent), "every (state, event) is defined"
