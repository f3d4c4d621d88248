"""Plain explanations of what the card answered, in Japanese and English.

The card decides; this module only explains its decisions. ``explain_exchange`` reads the facts the
card recorded on a trace ``Exchange`` (application, file, PIN, tries left) and the rule tables in
``card_emulator.rules``; it never prints the data of a VERIFY or CHANGE, so no PIN value is shown.
Status words: card-interface.md §9; PIN lifecycle: card-interface.md §10.2, pin-rules.md §2.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

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
from card_emulator.teaching.commands import card_reason, instruction_name, length_problem
from card_emulator.teaching.i18n import Lang, Text, count, pick
from card_emulator.teaching.render import display_width, table
from card_emulator.teaching.status_words import (
    explain_status_word,
    status_word_info,
)

if TYPE_CHECKING:
    from rich.table import Table


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
    "select_mf": Text("SELECT the master file", "MFの選択"),
    "get_response": Text("GET RESPONSE", "GET RESPONSE(続きの取得)"),
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
    """The PIN's name in ``lang`` (``ja``, else English), from ``rules.PIN_SPECS``."""
    spec = PIN_SPECS[pin]
    return spec.name_ja if lang == Lang.JA else spec.name_en


_OR = Text(" or ", "または")


def pin_names(pins: Iterable[PinName], lang: str, joiner: Text = _OR) -> str:
    """The names of ``pins`` in ``lang``, sorted, joined with ``joiner`` ("a or b")."""
    return joiner(lang).join(pin_name(p, lang) for p in sorted(pins))


def app_name(app: AppName, lang: str) -> str:
    """The application's name in ``lang`` with its AID in hex: ``JPKI AP (D392F000260100000001)``."""
    aid = APP_AIDS.get(app)
    return f"{app_text(app)(lang)}" + (f" ({aid.hex().upper()})" if aid else "")


def app_text(app: AppName) -> Text:
    """An application's name in both languages; an application added to the rules later and not
    yet named here shows its identifier, so new rows render without code changes."""
    return APP_NAMES.get(app) or Text(app.value, app.value)


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
            + pick(lang, ". [seed 002, 004]", "。[資料002, 004]")
        )
    if tries_left == 1:
        return pick(
            lang,
            "The next wrong entry locks it (63C0); after that even the correct value is refused. "
            f"A correct entry now restores {spec.max_tries} tries. [seed 004]",
            "次に間違えるとロックされ(63C0)、その後は正しい値も拒否されます。"
            f"今正しく入力すれば残り回数は{spec.max_tries}回に戻ります。[資料004]",
        )
    return pick(
        lang,
        f"The next wrong entry leaves {tries_left - 1} of {spec.max_tries}; the count does not "
        f"reset with time or another service, only with a correct entry. [seed 004]",
        f"次に間違えると残り{tries_left - 1}回(最大{spec.max_tries}回)。回数は日付やサービスを"
        "またいでも戻らず、正しく入力したときだけ戻ります。[資料004]",
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
    "card": Text("Card says", "カードの理由"),
}

_PIN_ACTIONS = frozenset({"verify", "query", "change"})


def tries_phrase(n: int) -> str:
    """``"1 try"``, ``"3 tries"`` (English; Japanese has no plural)."""
    return count(Lang.EN, n, "try", "tries", "回")


# A 9000 that means more than "normal end", by the command it answers.
_SUCCESS: dict[str, Text] = {
    "select_app": Text(
        "the application is selected; PINs verified before are no longer verified",
        "APを選択しました。それまでの照合済み状態は消えます",
    ),
    "select_ef": Text("the file (EF) is selected", "EFを選択しました"),
    "select_mf": Text("selected", "選択しました"),
    "verify": Text(
        "correct value: the counter is back to its maximum", "一致: 残り回数は最大値に戻りました"
    ),
    "change": Text(
        "the new value is set; tries at their maximum", "新しい値に変更しました。残り回数は最大です"
    ),
}
# A 9000 to any other command: done, and nothing more (a GET CHALLENGE's 9000 is no VERIFY).
_DONE = Text("normal end: the command succeeded", "正常終了: コマンドは成功しました")
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
    if specific is None and sw == 0x9000:
        specific = _DONE  # the catalogue's "after a VERIFY" note is about VERIFY only
    if specific is None:
        return explain_status_word(sw, lang)
    return f"{sw:04X} {specific(lang)}"


def command_name(exchange: ExchangeLike, lang: str, *, with_problem: bool = True) -> str:
    """What the command is: the card's reading of it, else its instruction by CLA/INS (a known
    instruction with bad length bytes is named, with what is wrong), else "unknown"."""
    if exchange.action in ACTION_NAMES and exchange.action != "unknown":
        return ACTION_NAMES[exchange.action](lang)
    name = instruction_name(exchange.command)
    if name is None:
        return ACTION_NAMES["unknown"](lang)
    if with_problem and exchange.reason == "malformed APDU":
        return f"{name(lang)}: {length_problem(exchange.command)(lang)}"
    return name(lang)


def reason_text(exchange: ExchangeLike, lang: str) -> str:
    """The card's reason in ``lang``; "" when there is none or no Japanese for it in Japanese."""
    if not exchange.reason:
        return ""
    known = card_reason(exchange.reason)
    if known is not None:
        return known(lang)
    return "" if lang == Lang.JA else exchange.reason


def explain_exchange(exchange: ExchangeLike, lang: str) -> str:
    """Lines explaining one command and the card's answer; never shows VERIFY/CHANGE data."""
    rows: list[tuple[str, str]] = []
    action = command_name(exchange, lang)
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
    reason = reason_text(exchange, lang)
    if reason and exchange.sw != 0x9000:
        rows.append(("card", reason))
    width = max(display_width(_LABELS[key](lang)) for key, _ in rows)
    lines = []
    for key, text in rows:
        label = _LABELS[key](lang)
        lines.append(f"  {label}{' ' * (width - display_width(label))}  {text}")
    return "\n".join(lines)


def redacted(command: bytes, lang: str) -> str:
    """The command as hex with any PIN redacted, the redaction worded in ``lang``."""
    text = redact_command(command)
    if lang == Lang.JA:
        text = re.sub(r"<(\d+) bytes? redacted>", r"<\1バイト非表示>", text)
    return text


def explain_row(exchange: ExchangeLike, lang: str) -> tuple[str, str, str]:
    """One exchange in one row: the command (redacted) and what it is, the status word, and the
    answer in plain words with the PIN's tries and what one more wrong entry would do."""
    command = (
        f"{redacted(exchange.command, lang)}\n{command_name(exchange, lang, with_problem=False)}"
    )
    parts = [_answer(exchange, lang).split(" ", 1)[-1]]
    if exchange.reason == "malformed APDU" and instruction_name(exchange.command) is not None:
        name = instruction_name(exchange.command)
        assert name is not None
        # What is wrong with this command, then the status word's title only: the catalogue's
        # examples of a wrong length (READ BINARY without Le, 80 FC ...) are not about it.
        info = status_word_info(exchange.sw)
        parts = [f"{name(lang)}: {length_problem(exchange.command)(lang)}",
                 *([info.title(lang)] if info is not None else parts)]  # fmt: skip
    if exchange.action == "select_ef" and exchange.app is not None and exchange.fid is not None:
        parts.append(_file_line(exchange.app, exchange.fid, lang))
    pin = exchange.pin
    if pin is not None and exchange.tries_left is not None:
        spec = PIN_SPECS[pin]
        parts.append(pick(lang, f"{spec.name_en}: {exchange.tries_left}/{spec.max_tries}",
                          f"{spec.name_ja}: 残り{exchange.tries_left}/{spec.max_tries}回"))  # fmt: skip
        if exchange.action in _PIN_ACTIONS and exchange.action != "query":
            parts.append(next_wrong_entry(pin, exchange.tries_left, lang))
    elif pin is not None and exchange.sw == 0x6982:
        parts.append(pick(lang, f"VERIFY the {pin_name(pin, lang)} first",
                          f"先に{pin_name(pin, lang)}の照合が必要"))  # fmt: skip
    reason = "" if exchange.reason == "malformed APDU" else reason_text(exchange, lang)
    if reason and exchange.sw != 0x9000 and exchange.action not in _PIN_ACTIONS:
        parts.append(pick(lang, f"card: {reason}", f"カード: {reason}"))
    data = len(exchange.response) - 2
    if data > 0:
        parts.insert(0, pick(lang, f"{data} bytes of data", f"データ{data}バイト"))
    parts = [p.rstrip("。.") for p in parts if p]
    return command, f"{exchange.sw:04X}", pick(lang, "; ", "。").join(parts) + pick(lang, ".", "。")


def explain_table(exchanges: Iterable[ExchangeLike], lang: str) -> Table:
    """Every exchange as one row of a table that wraps to the terminal (``--explain``)."""
    headers = ["#", pick(lang, "Command", "コマンド"), "SW", pick(lang, "Meaning", "意味")]
    rows = [[str(i), *explain_row(exchange, lang)] for i, exchange in enumerate(exchanges, 1)]
    return table(headers, rows, no_wrap=(0, 2))
