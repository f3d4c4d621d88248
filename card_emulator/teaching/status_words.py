"""Every status word the card answers, explained in Japanese and English (card-interface.md §9).

A table: one entry per status word or family (``63Cx``), with its name and what it means for the
holder or the developer. ``teaching.explain`` reads it in the light of the command answered.
"""

from __future__ import annotations

from dataclasses import dataclass

from card_emulator.teaching.i18n import Text


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
            "A secure-messaging CLA where this application, or this instruction, does not accept "
            "one (only the text application's SELECT, VERIFY and READ BINARY do).",
            "このAP(またはこの命令)ではセキュアメッセージングのCLAを受け付けません"
            "(受け付けるのは券面事項入力補助APのSELECT、VERIFY、READ BINARYのみ)。",
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
            "A secure-messaging CLA with no session: on READ or VERIFY in the JPKI application, "
            "or in the text application after a secure-messaging error until it is selected "
            "again (card-specific).",
            "セッションのないSMのCLA: 公的個人認証APでのREAD/VERIFY、または券面事項入力補助APで"
            "SMの誤りの後(APを選択し直すまで)(カード固有)。",
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
    0x6984, 0x6985, 0x6986, 0x6987, 0x6988, 0x69FC, 0x66F1, 0x6A80, 0x6A81, 0x6A82, 0x6A83, 0x6A86, 0x6A88, 0x6B00,
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
