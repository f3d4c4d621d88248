"""Plain explanations of what the card answered, in Japanese and English.

The card decides; this module only explains its decisions. ``explain_exchange`` reads the facts the
card recorded on a trace ``Exchange`` (application, file, PIN, tries left) and the rule tables in
``card_emulator.rules``; it never prints the data of a VERIFY or CHANGE, so no PIN value is shown.
Status words: card-interface.md §9; PIN lifecycle: card-interface.md §10.2, pin-rules.md §2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from apdu import redact_command, retries_left
from card_emulator.rules import (
    APP_AIDS,
    FILE_RULE_BY_LOCATION,
    MAY_SHARE_VALUE,
    PIN_SPECS,
    USER_PINS,
    AppName,
    FileKind,
    PinName,
)
from card_emulator.teaching.i18n import Lang, Text, pick
from card_emulator.teaching.render import display_width


class ExchangeLike(Protocol):
    """What ``card_emulator.trace.Exchange`` carries (CARD_API.md); structural, so fakes fit."""

    @property
    def command(self) -> bytes: ...
    @property
    def response(self) -> bytes: ...
    @property
    def sw(self) -> int: ...
    @property
    def app(self) -> AppName | None: ...
    @property
    def fid(self) -> int | None: ...
    @property
    def pin(self) -> PinName | None: ...
    @property
    def tries_left(self) -> int | None: ...
    @property
    def action(self) -> str: ...
    @property
    def reason(self) -> str: ...


# ---------------------------------------------------------------------------------------------
# Status words (card-interface.md §9)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusWordInfo:
    """One status word or family; ``mask`` picks the fixed bits (0xFFF0 for 63Cx)."""

    pattern: str
    value: int
    mask: int
    title: Text
    meaning: Text

    def matches(self, sw: int) -> bool:
        return sw & self.mask == self.value

    def variable(self, sw: int) -> int:
        return sw & ~self.mask & 0xFFFF

    def generic_meaning(self, lang: str) -> str:
        """The meaning for the whole family: ``{x}`` shown as ``x``, ``{x:02X}`` as ``xx``."""
        return self.meaning(lang).replace("{x:02X}", "xx").replace("{x}", "x")


def _sw(pattern: str, title: Text, meaning: Text) -> StatusWordInfo:
    fixed = pattern.upper()
    value = int(fixed.replace("X", "0"), 16)
    mask = int("".join("0" if c == "X" else "F" for c in fixed), 16)
    return StatusWordInfo(pattern, value, mask, title, meaning)


STATUS_WORDS: tuple[StatusWordInfo, ...] = (
    _sw(
        "9000",
        Text("normal end", "正常終了"),
        Text(
            "The command succeeded (after a VERIFY: the PIN's counter is back to its maximum).",
            "コマンドは成功しました(VERIFYの場合、残り回数は最大値に戻ります)。",
        ),
    ),
    _sw(
        "63Cx",
        Text("verification failed / tries left", "照合不一致・残り回数"),
        Text(
            "{x} tries left. After a wrong value this is what remains; a VERIFY without data "
            "only asks and spends nothing. 63C0 means the PIN is now locked.",
            "残り{x}回。誤った値の後は残りの回数を示します。データなしのVERIFYは回数を問い合わせる"
            "だけで消費しません。63C0はロックされたことを示します。",
        ),
    ),
    _sw(
        "6300",
        Text("verification failed, no retry limit", "照合不一致(回数制限なし)"),
        Text(
            "The value did not match a key without a retry limit (not used by this card's PINs).",
            "回数制限のない鍵で照合が一致しませんでした(このカードの暗証番号では使いません)。",
        ),
    ),
    _sw(
        "6700",
        Text("wrong length", "長さ誤り"),
        Text(
            "Lc or Le does not fit the command (for example READ BINARY without Le, an EF "
            "identifier that is not 2 bytes, or 80 FC on a physical card).",
            "LcまたはLeがコマンドに合いません(LeなしのREAD BINARY、2バイトでないEF識別子、"
            "物理カードへの80 FCなど)。",
        ),
    ),
    _sw(
        "6881",
        Text("logical channel not supported", "論理チャネル非対応"),
        Text(
            "The CLA names a logical channel other than 0; the card has only the basic channel.",
            "CLAが0以外の論理チャネルを指しています。このカードは基本チャネルのみです。",
        ),
    ),
    _sw(
        "6882",
        Text("secure messaging not supported", "セキュアメッセージング非対応"),
        Text(
            "A secure-messaging CLA where this application does not accept one.",
            "このAPではセキュアメッセージングのCLAを受け付けません。",
        ),
    ),
    _sw(
        "6884",
        Text("command chaining not supported", "コマンドチェイニング非対応"),
        Text(
            "The CLA has the command-chaining bit set (hex 10, as in CLA 10 or 90): this card "
            "takes every command whole, in a single APDU.",
            "CLAのコマンドチェイニングのビット(16進10、CLA 10や90など)が立っています。このカードはコマンドを"
            "分割せず1つのAPDUで受け付けます。",
        ),
    ),
    _sw(
        "6981",
        Text("command incompatible with the file", "ファイル構造と不整合"),
        Text(
            "The command does not fit the kind of EF it names: READ BINARY on a record EF, "
            "READ RECORD on a transparent EF, either READ on a PIN or key EF (used, never "
            "read), VERIFY or CHANGE on an EF that is not a PIN, or a signature (80 2A) with "
            "an EF that is not a private key.",
            "指定したEFの種類に合わないコマンドです: レコードEFへのREAD BINARY、"
            "トランスペアレントEFへのREAD RECORD、暗証番号・鍵のEFの読み出し(使えますが読み出せ"
            "ません)、暗証番号でないEFへのVERIFYや変更、秘密鍵でないEFでの署名(80 2A)など。",
        ),
    ),
    _sw(
        "6982",
        Text("security status not satisfied", "セキュリティステータス不充足"),
        Text(
            "This needs a PIN verified first in the current application session (a SELECT of "
            "an application, a power cycle or a reset forgets earlier VERIFYs). No try is spent.",
            "先に暗証番号の照合が必要です(APの選択・電源断・リセットで照合済み状態は消えます)。"
            "回数は減りません。",
        ),
    ),
    _sw(
        "6983",
        Text("authentication method blocked", "認証方法がブロック"),
        Text(
            "ISO's code for a blocked key; this card answers 6984 instead.",
            "ISOのブロック通知です。このカードは代わりに6984を返します。",
        ),
    ),
    _sw(
        "6984",
        Text("PIN locked", "暗証番号ロック"),
        Text(
            "The PIN has no tries left. Every VERIFY, even with the correct value, is refused, "
            "and it cannot be changed. Only a reset (再設定・初期化) unlocks it.",
            "残り回数がありません。正しい暗証番号でも照合は拒否され、変更もできません。"
            "ロック解除には再設定(初期化)の手続きが必要です。",
        ),
    ),
    _sw(
        "6985",
        Text("conditions of use not satisfied", "使用条件不充足"),
        Text(
            "The command is not allowed here (for example a key that this command cannot use, "
            "or a data length the operation does not accept).",
            "この状況では使えないコマンドです(使えない鍵、受け付けない長さなど)。",
        ),
    ),
    _sw(
        "6986",
        Text("no current file", "カレントEFなし"),
        Text(
            "No file is selected: SELECT an EF before READ BINARY or VERIFY.",
            "EFが選択されていません。READ BINARYやVERIFYの前にEFを選択してください。",
        ),
    ),
    _sw(
        "6987",
        Text("secure-messaging object missing", "SMデータオブジェクトなし"),
        Text("A secure-messaging data object is missing.", "SMのデータオブジェクトがありません。"),
    ),
    _sw(
        "6988",
        Text("secure-messaging data wrong", "SMデータ誤り"),
        Text("A secure-messaging data object is wrong.", "SMのデータオブジェクトが誤っています。"),
    ),
    _sw(
        "69FC",
        Text("secure-messaging class refused", "SMクラス拒否"),
        Text(
            "A secure-messaging CLA on READ or VERIFY in the JPKI application (card-specific).",
            "公的個人認証APでREAD/VERIFYにSMのCLAが使われました(カード固有)。",
        ),
    ),
    _sw(
        "66F1",
        Text("security environment faulty", "セキュリティ環境異常"),
        Text(
            "SET SESSION KEY where the application offers no secure messaging.",
            "セキュアメッセージングのないAPでSET SESSION KEYが送られました。",
        ),
    ),
    _sw(
        "6A80",
        Text("incorrect data", "データ誤り"),
        Text(
            "The data field is wrong; for CHANGE, the new PIN does not meet the format, "
            "and the old PIN stays in force.",
            "データが不正です。変更の場合、新しい暗証番号が形式に合わず、元の暗証番号のままです。",
        ),
    ),
    _sw(
        "6A81",
        Text("function not supported", "機能非対応"),
        Text(
            "The card does not offer this form of the command (for example multi-record reads).",
            "この形式のコマンドには対応していません(複数レコード読み出しなど)。",
        ),
    ),
    _sw(
        "6A82",
        Text("file or application not found", "ファイル・AP未発見"),
        Text(
            "No such application or EF here (a card without a signing certificate "
            "has no EF 0001/001A).",
            "該当するAPまたはEFがありません"
            "(署名用証明書のないカードにはEF 0001/001Aがありません)。",
        ),
    ),
    _sw(
        "6A83",
        Text("record not found", "レコード未発見"),
        Text(
            "READ RECORD asked for a record past the last one.",
            "最後より後のレコードが指定されました。",
        ),
    ),
    _sw(
        "6A86",
        Text("incorrect P1-P2", "P1-P2誤り"),
        Text(
            "The parameters P1/P2 are not valid for this command here.",
            "このコマンドに対してP1/P2が正しくありません。",
        ),
    ),
    _sw(
        "6A88",
        Text("referenced data not found", "参照データなし"),
        Text(
            "GET DATA asked for an object the card does not have.",
            "GET DATAで存在しないデータオブジェクトが指定されました。",
        ),
    ),
    _sw(
        "6B00",
        Text("offset beyond the file", "オフセット範囲外"),
        Text(
            "READ BINARY started at or after the end of the file.",
            "READ BINARYの開始位置がファイルの終わり以降です。",
        ),
    ),
    _sw(
        "6D00",
        Text("instruction not supported", "INS非対応"),
        Text(
            "The card does not know this INS (PIN resets are not an APDU a reader can send).",
            "このINSには対応していません(暗証番号の再設定はリーダから送れるAPDUではありません)。",
        ),
    ),
    _sw(
        "6E00",
        Text("class not supported", "CLA非対応"),
        Text("The card does not know this CLA.", "このCLAには対応していません。"),
    ),
    _sw(
        "6F00",
        Text("internal error", "内部エラー"),
        Text(
            "The card could not complete the command (self-diagnosis failure).",
            "カードはコマンドを完了できませんでした(自己診断異常)。",
        ),
    ),
    _sw(
        "6Cxx",
        Text("wrong Le", "Le誤り"),
        Text(
            "Le was wrong: repeat the command with Le = {x:02X} ({x} bytes).",
            "Leが誤っています。Le = {x:02X}({x}バイト)で再送してください。",
        ),
    ),
    _sw(
        "61xx",
        Text("more data available", "続きのデータあり"),
        Text(
            "{x} more bytes are waiting: fetch them with GET RESPONSE (00 C0 00 00 {x:02X}).",
            "{x}バイトが残っています。GET RESPONSE (00 C0 00 00 {x:02X}) で取得してください。",
        ),
    ),
)

# Every status word the card can answer, one representative per family (card-interface.md §9).
CARD_STATUS_WORDS: tuple[int, ...] = (
    0x9000, *(0x63C0 + x for x in range(16)), 0x6700, 0x6881, 0x6882, 0x6884, 0x6981, 0x6982,
    0x6984, 0x6985, 0x6986, 0x69FC, 0x6A80, 0x6A81, 0x6A82, 0x6A83, 0x6A86, 0x6A88, 0x6B00,
    0x6D00, 0x6E00, 0x6F00, 0x6C00, 0x6C10, 0x6CFF, 0x6100, 0x6110, 0x61FF,
)  # fmt: skip

_UNKNOWN_SW = Text("a status word this card does not use", "このカードが使わないステータスワード")


def status_word_info(sw: int) -> StatusWordInfo | None:
    for info in STATUS_WORDS:
        if info.matches(sw):
            return info
    return None


def explain_status_word(sw: int, lang: str) -> str:
    """``"63C2 verification failed / tries left: 2 tries left. …"`` in ``lang``."""
    info = status_word_info(sw)
    if info is None:
        return f"{sw:04X} {_UNKNOWN_SW(lang)}"
    x = info.variable(sw)
    if info.pattern == "6Cxx" and x == 0:
        x = 256
    return f"{sw:04X} {info.title(lang)}: {info.meaning(lang).format(x=x)}"


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------

APP_NAMES: dict[AppName, Text] = {
    AppName.JPKI: Text("JPKI application (public certificates)", "公的個人認証AP"),
    AppName.TEXT: Text("text-input-helper application", "券面事項入力補助AP"),
    AppName.JUKI: Text("resident-registry application", "住基AP"),
    AppName.SURFACE: Text("card-surface application", "券面事項確認AP"),
    AppName.COMMON: Text("common card application", "共通カードAP"),
}

ACTION_NAMES: dict[str, Text] = {
    "select_app": Text("SELECT an application", "APの選択"),
    "select_ef": Text("SELECT a file (EF)", "EFの選択"),
    "read_binary": Text("READ BINARY", "READ BINARY(読み出し)"),
    "read_record": Text("READ RECORD", "READ RECORD(レコード読み出し)"),
    "verify": Text("VERIFY: check a PIN", "VERIFY(暗証番号の照合)"),
    "query": Text(
        "VERIFY without data: ask the tries left", "データなしVERIFY(残り回数の問い合わせ)"
    ),
    "change": Text("CHANGE: set a new PIN", "暗証番号の変更"),
    "sign": Text("COMPUTE DIGITAL SIGNATURE", "電子署名の計算"),
    "get_challenge": Text("GET CHALLENGE (random bytes)", "GET CHALLENGE(乱数取得)"),
    "get_data": Text("GET DATA (a data object of the card)", "GET DATA(データオブジェクトの取得)"),
    "internal_authenticate": Text(
        "INTERNAL AUTHENTICATE: the card signs a challenge", "INTERNAL AUTHENTICATE(カードの認証)"
    ),
    "set_session_key": Text(
        "SET SESSION KEY: open secure messaging", "SET SESSION KEY(セキュアメッセージングの開始)"
    ),
    "secure_messaging": Text(
        "a command under secure messaging (encrypted)", "セキュアメッセージング(暗号化)のコマンド"
    ),
    "power": Text("power / reset", "電源・リセット"),
    "unknown": Text("a command this card does not know", "このカードが知らないコマンド"),
}


def pin_name(pin: PinName, lang: str) -> str:
    spec = PIN_SPECS[pin]
    return spec.name_ja if lang == Lang.JA else spec.name_en


_OR = Text(" or ", "または")


def pin_names(pins: Iterable[PinName], lang: str, joiner: Text = _OR) -> str:
    """The names of ``pins`` in ``lang``, sorted, joined with ``joiner`` ("a or b")."""
    return joiner(lang).join(pin_name(p, lang) for p in sorted(pins))


def app_name(app: AppName, lang: str) -> str:
    return f"{APP_NAMES[app](lang)} ({APP_AIDS[app].hex().upper()})"


def _file_line(app: AppName, fid: int, lang: str) -> str:
    rule = FILE_RULE_BY_LOCATION.get((app, fid))
    if rule is None:
        return f"EF {fid:04X}"
    content = rule.content_ja if lang == Lang.JA else rule.content_en
    names = pin_names(rule.opened_by, lang)
    if rule.kind in (FileKind.PIN, FileKind.PRIVATE_KEY):
        access = pick(lang, "internal: usable, never readable", "内部EF: 使用のみ、読み出し不可")
        if rule.opened_by:
            access += pick(lang, f"; used after VERIFY of {names}", f"。{names}の照合後に使用可")
    elif rule.kind == FileKind.SECRET:
        access = pick(lang, "issuer terminals only", "発行者端末専用")
    elif rule.kind == FileKind.BLOCKED:
        access = pick(
            lang,
            "blocked on every card: 63C0, VERIFY 6984",
            "全カードでロック済み: 63C0、照合は6984",
        )
    elif rule.opened_by:
        access = pick(lang, f"readable after VERIFY of {names}", f"{names}の照合後に読み出し可")
    else:
        access = pick(lang, "free to read", "暗証番号なしで読み出し可")
    return f"EF {fid:04X} — {content} ({access})"


def _kiosk_note(pin: PinName, lang: str) -> str:
    # pin-rules.md §4: kiosks reset only the JPKI PINs, each needing the other (2025, seed 004);
    # under the 2024 rule only the signing password (seed 002).
    if pin == PinName.SIGNING:
        return pick(
            lang,
            " — or at a convenience-store kiosk, with the user-authentication PIN",
            "、またはコンビニのキオスク端末(利用者証明用の暗証番号が必要)",
        )
    if pin == PinName.USER_AUTH:
        return pick(
            lang,
            " — or, under the 2025 rule, at a kiosk with the signing password",
            "、または2025年のルールではキオスク端末(署名用の暗証番号が必要)",
        )
    return ""


def next_wrong_entry(pin: PinName, tries_left: int, lang: str) -> str:
    """What one more wrong VERIFY would do (card-interface.md §10.2, pin-rules.md §2)."""
    spec = PIN_SPECS[pin]
    if tries_left <= 0:
        return (
            pick(
                lang,
                "Locked: every VERIFY, even with the correct value, answers 6984, and CHANGE is "
                "refused. Only a reset unlocks it: at the municipal window",
                "ロック中: 正しい値でもVERIFYは6984で拒否され、変更もできません。"
                "ロック解除は再設定のみ: 市区町村の窓口",
            )
            + _kiosk_note(pin, lang)
            + pick(lang, ".", "。")
        )
    if tries_left == 1:
        return pick(
            lang,
            "The next wrong entry locks it (63C0); after that even the correct value is refused. "
            f"A correct entry now restores {spec.max_tries} tries.",
            "次に間違えるとロックされ(63C0)、その後は正しい値も拒否されます。"
            f"今正しく入力すれば残り回数は{spec.max_tries}回に戻ります。",
        )
    return pick(
        lang,
        f"The next wrong entry leaves {tries_left - 1} of {spec.max_tries}; the count does not "
        f"reset with time or another service, only with a correct entry.",
        f"次に間違えると残り{tries_left - 1}回(最大{spec.max_tries}回)。回数は日付やサービスを"
        "またいでも戻らず、正しく入力したときだけ戻ります。",
    )


def unaffected_pins(pin: PinName, lang: str) -> str:
    """Which PINs keep their own counters (pin-rules.md §1: separate even with one value)."""
    others = [p for p in USER_PINS if p != pin]
    names = pick(lang, ", ", "、").join(pin_name(p, lang) for p in others)
    shared = pin in MAY_SHARE_VALUE
    if lang == Lang.JA:
        tail = "(同じ値を設定していても別々に数えます)" if shared else ""
        return f"{names}は影響を受けません{tail}。"
    tail = " (even when they share this value)" if shared else ""
    return f"{names}: unaffected, each keeps its own counter{tail}."


_LABELS: dict[str, Text] = {
    "command": Text("Command", "コマンド"),
    "app": Text("Application", "AP"),
    "file": Text("File", "ファイル"),
    "pin": Text("PIN", "暗証番号"),
    "answer": Text("Answer", "応答"),
    "next": Text("Next wrong", "次の誤入力"),
    "others": Text("Other PINs", "他の暗証番号"),
    "card": Text("Card says", "カードの理由(英語)"),
}

_PIN_ACTIONS = frozenset({"verify", "query", "change"})


def tries_phrase(n: int) -> str:
    """``"1 try"``, ``"3 tries"``."""
    return f"{n} try" if n == 1 else f"{n} tries"


# A 9000 that means more than "normal end", by the command it answers.
_SUCCESS: dict[str, Text] = {
    "verify": Text(
        "correct value: the counter is back to its maximum", "一致: 残り回数は最大値に戻りました"
    ),
    "change": Text(
        "the new value is set; tries at their maximum", "新しい値に変更しました。残り回数は最大です"
    ),
}
# 63Cx after a VERIFY with a value, and after one without (a query): (no tries left, some left).
_TRIES_LEFT: dict[str, tuple[Text, Text]] = {
    "verify": (
        Text(
            "wrong value: no tries left, the PIN is now locked",
            "不一致: 残り回数がなくなり、ロックされました",
        ),
        Text("wrong value: {tries} left", "不一致: 残り{x}回"),
    ),
    "query": (
        Text(
            "the PIN is locked; the query spent nothing", "ロック中です。問い合わせでは消費しません"
        ),
        Text("{tries} left; the query spent nothing", "残り{x}回。問い合わせでは消費しません"),
    ),
}


def _answer(exchange: ExchangeLike, lang: str) -> str:
    """The status word, read in the light of the command (a 9000 to VERIFY is a correct PIN)."""
    sw, action = exchange.sw, exchange.action
    specific: Text | None = None
    x = retries_left(sw)
    if sw == 0x9000:
        specific = _SUCCESS.get(action)
    elif x is not None and action in _TRIES_LEFT:
        locked, some_left = _TRIES_LEFT[action]
        specific = locked if x == 0 else some_left.format(tries=tries_phrase(x), x=x)
    if specific is None:
        return explain_status_word(sw, lang)
    return f"{sw:04X} {specific(lang)}"


def explain_exchange(exchange: ExchangeLike, lang: str) -> str:
    """Lines explaining one command and the card's answer; never shows VERIFY/CHANGE data."""
    rows: list[tuple[str, str]] = []
    action = ACTION_NAMES.get(exchange.action, ACTION_NAMES["unknown"])(lang)
    rows.append(("command", f"{redact_command(exchange.command)} — {action}"))
    if exchange.app is not None:
        rows.append(("app", app_name(exchange.app, lang)))
    if exchange.app is not None and exchange.fid is not None:
        rows.append(("file", _file_line(exchange.app, exchange.fid, lang)))
    pin = exchange.pin
    if pin is not None:
        line = pin_name(pin, lang)
        if exchange.tries_left is not None:
            max_tries = PIN_SPECS[pin].max_tries
            line += pick(
                lang,
                f": {exchange.tries_left} of {max_tries} tries left",
                f": 残り{exchange.tries_left}回(最大{max_tries}回)",
            )
            if exchange.tries_left == 0:
                line += pick(lang, " — locked", " — ロック中")
        if exchange.sw == 0x6982 and exchange.action not in _PIN_ACTIONS:
            line += pick(lang, " — VERIFY it first", " — 先に照合が必要")
        rows.append(("pin", line))
    data = len(exchange.response) - 2
    answer = _answer(exchange, lang)
    if data > 0:
        answer = pick(lang, f"{data} bytes of data; ", f"データ{data}バイト、") + answer
    rows.append(("answer", answer))
    if pin is not None and exchange.action in _PIN_ACTIONS and exchange.tries_left is not None:
        rows.append(("next", next_wrong_entry(pin, exchange.tries_left, lang)))
        if exchange.action != "query" or exchange.tries_left == 0:
            rows.append(("others", unaffected_pins(pin, lang)))
    if exchange.reason:
        rows.append(("card", exchange.reason))
    width = max(display_width(_LABELS[key](lang)) for key, _ in rows)
    lines = []
    for key, text in rows:
        label = _LABELS[key](lang)
        lines.append(f"  {label}{' ' * (width - display_width(label))}  {text}")
    return "\n".join(lines)
