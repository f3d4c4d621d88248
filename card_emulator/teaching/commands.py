"""Names of the instructions a reader sends, the card's reasons in both languages, and what is
wrong with a command whose length bytes do not fit.

The card (``card_emulator``) gives its reasons in English on each ``Exchange``; a learner who reads
Japanese gets them in Japanese from the table here (ISO 7816-4 §5.1 for the APDU layout; the
instructions: card-interface.md §2).
"""

from __future__ import annotations

import re

from card_emulator.rules import PIN_SPECS
from card_emulator.teaching.i18n import Text

# (CLA & 0x80, INS) → name. ISO 7816-4 interindustry instructions and JICSAP's 80 xx ones.
INSTRUCTIONS: dict[tuple[int, int], Text] = {
    (0x00, 0xA4): Text("SELECT", "SELECT(選択)"),
    (0x00, 0xB0): Text("READ BINARY", "READ BINARY(読み出し)"),
    (0x00, 0xB2): Text("READ RECORD", "READ RECORD(レコード読み出し)"),
    (0x00, 0x20): Text("VERIFY", "VERIFY(暗証番号の照合)"),
    (0x00, 0x24): Text("CHANGE REFERENCE DATA", "CHANGE REFERENCE DATA(暗証番号の変更)"),
    (0x80, 0x32): Text("CHANGE KEY (住基AP)", "CHANGE KEY(住基APの暗証番号の変更)"),
    (0x80, 0x2A): Text("COMPUTE DIGITAL SIGNATURE", "COMPUTE DIGITAL SIGNATURE(電子署名)"),
    (0x00, 0x84): Text("GET CHALLENGE", "GET CHALLENGE(乱数取得)"),
    (0x00, 0xC0): Text("GET RESPONSE", "GET RESPONSE(続きの取得)"),
    (0x00, 0xCA): Text("GET DATA", "GET DATA(データ取得)"),
    (0x00, 0x2C): Text("RESET RETRY COUNTER", "RESET RETRY COUNTER(再試行回数のリセット)"),
    (0x00, 0x88): Text("INTERNAL AUTHENTICATE", "INTERNAL AUTHENTICATE(カードの認証)"),
    (0x80, 0xAE): Text("SET SESSION KEY", "SET SESSION KEY(セキュアメッセージングの開始)"),
}


def instruction_name(command: bytes) -> Text | None:
    """The name of the command's instruction, read from its CLA and INS; None when unknown."""
    if len(command) < 2:
        return None
    return INSTRUCTIONS.get((command[0] & 0x80, command[1]))


def length_problem(command: bytes) -> Text:
    """What is wrong with the length bytes of a command the card could not parse (6700)."""
    n = len(command)
    if n < 4:
        return Text(
            f"{n} bytes: shorter than the 4-byte header CLA INS P1 P2",
            f"{n}バイト: 4バイトのヘッダ(CLA INS P1 P2)より短い",
        )
    body = n - 5
    lc = command[4]
    if lc != 0 and body >= 0:
        return Text(
            f"Lc says {lc} bytes of data, but {body} follow",
            f"Lcは{lc}バイトのデータを示しますが、続くのは{body}バイトです",
        )
    return Text(
        "the length bytes (Lc, Le) do not fit the bytes that follow",
        "長さのバイト(Lc、Le)が後に続くバイト数と合いません",
    )


# The card's reasons (English, from card_emulator) → both languages. Patterns match whole reasons;
# ``{0}`` is the first group. A reason not listed is shown in English only in English output.
_REASONS: tuple[tuple[str, str], ...] = (
    (r"wrong value", "値が違います"),
    (r"wrong value; now locked", "値が違います。これでロックされました"),
    (r"tries left", "残り回数の問い合わせ"),
    (r"locked: only an issuer reset lifts it", "ロック中: 発行者による再設定でのみ解除"),
    (r"malformed APDU", "APDUの形式が正しくありません"),
    (r"VERIFY the current value first", "先に現在の値を照合してください"),
    (r"VERIFY the PIN first", "先に暗証番号を照合してください"),
    (r"needs a VERIFY of (.+)", "{0}の照合が必要です"),
    (r"no new value", "新しい値がありません"),
    (r"a key or PIN EF is never readable", "鍵や暗証番号のEFは読み出せません"),
    (r"readable by issuer terminals only", "発行者端末のみ読み出せます"),
    (r"EF ([0-9A-F]{4}) is not a PIN", "EF {0}は暗証番号ではありません"),
    (r"no EF ([0-9A-F]{4}) in this application", "このAPにEF {0}はありません"),
    (r"an EF identifier is two bytes", "EF識別子は2バイトです"),
    (r"no EF is selected", "EFが選択されていません"),
    (r"no application is selected", "APが選択されていません"),
    (r"no application with this AID", "このAIDのAPはありません"),
    (r"no AID", "AIDがありません"),
    (r"READ BINARY needs Le", "READ BINARYにはLeが必要です"),
    (r"READ RECORD needs Le", "READ RECORDにはLeが必要です"),
    (r"a record EF: use READ RECORD", "レコードEFです: READ RECORDを使ってください"),
    (r"not a record EF", "レコードEFではありません"),
    (r"offset beyond the end of the EF", "オフセットがEFの終わりを越えています"),
    (r"record (\d+) does not exist", "レコード{0}はありません"),
    (r"P2 must be 0C or 00", "P2は0Cまたは00です"),
    (r"VERIFY takes P1 = 00", "VERIFYのP1は00です"),
    (r"instruction ([0-9A-F]{2}) not supported", "命令{0}には対応していません"),
    (r"this application has no such instruction", "このAPにはこの命令がありません"),
    (r"class ([0-9A-F]{2}) is not supported", "クラス{0}には対応していません"),
    (r"command chaining not supported", "コマンドチェイニングには対応していません"),
    (r"secure messaging not supported", "セキュアメッセージングには対応していません"),
    (
        r"RESET RETRY COUNTER is not offered to users",
        "RESET RETRY COUNTERは利用者には提供されません",
    ),
    (r"P1 must be a signature scheme 00-05", "P1は署名方式00~05です"),
    (r"not a terminal-certificate mode", "端末証明書の検証モードではありません"),
    (r"the CV certificate fails its signature check", "CV証明書の署名検証に失敗しました"),
    (r"terminal authentication is not offered", "端末認証は提供されていません"),
    (r"a SHA-256 hash is 32 bytes", "SHA-256のハッシュ値は32バイトです"),
    # issue 9: the card-surface and common APs, MF data objects, prefix SELECT, secure messaging
    (r"blocked on every card", "すべてのカードで発行時から閉塞されています"),
    (r"P2 must be 0X \(ISO 7816-4 §7.1.1\)", "P2は0Xです(ISO 7816-4 §7.1.1)"),
    (r"no application with this name", "この名前のAPはありません"),
    (r"no further application with this name", "この名前の次のAPはありません"),
    (r"GET DATA needs Le", "GET DATAにはLeが必要です"),
    (r"no such data object at MF level", "MFにこのデータオブジェクトはありません"),
    (r"no such data object in an application", "AP内ではこのデータオブジェクトを取得できません"),
    (r"(\d+) bytes: use an extended Le", "{0}バイトです: 拡張Leを使ってください"),
    (
        r"the AP key is P2 = 00 or 80 \+ its short EF identifier",
        "APの鍵はP2 = 00または80 + その短縮EF識別子です",
    ),
    (r"this card has no AP signing key", "このカードにはAPの署名鍵がありません"),
    (r"nothing to sign", "署名するデータがありません"),
    (r"INTERNAL AUTHENTICATE takes P1 = 00", "INTERNAL AUTHENTICATEのP1は00です"),
    (r"a challenge is 1-255 bytes", "チャレンジは1~255バイトです"),
    (r"the key needs a PIN", "この鍵には暗証番号の照合が必要です"),
    (r"this key signs with 80 2A, not 00 88", "この鍵は00 88ではなく80 2Aで署名します"),
    (r"EF ([0-9A-F]{4}) is not a key", "EF {0}は鍵ではありません"),
    (r"SET SESSION KEY takes P1P2 = 0000", "SET SESSION KEYのP1P2は0000です"),
    (r"VERIFY the PIN \(0011\) in clear first", "先に暗証番号(0011)を平文で照合してください"),
    (r"no secure-messaging session", "セキュアメッセージングのセッションがありません"),
    (r"secure-messaging data objects wrong", "SMのデータオブジェクトが誤っています"),
    (r"not offered under secure messaging", "セキュアメッセージングでは使えない命令です"),
    # The rest of the card's reasons (a test checks that every reason the card gives is here).
    (r"the card is closed", "カードは閉じられています"),
    (r"internal error", "内部エラー"),
    (r"power lost after the counter write", "回数の書き込み後に電源が切れました"),
    (r"only logical channel 0", "論理チャネルは0のみです"),
    (r"UNLOCK KEY needs issuer authentication", "UNLOCK KEYには発行者の認証が必要です"),
    (
        r"last-command indicator: smartphone profile only",
        "最終コマンド指示: スマートフォン向けのみ",
    ),
    (r"multi-record read is not supported", "複数レコードの読み出しには対応していません"),
    (r"READ RECORD takes P2 = 04 or SFI<<3 \| 04", "READ RECORDのP2は04またはSFI<<3 | 04です"),
    (r"Le must be the record's length", "Leはレコードの長さにしてください"),
    (r"Le must be the object's length", "Leはデータオブジェクトの長さにしてください"),
    (r"only the new value may be given \(P1\)", "新しい値だけを指定できます(P1)"),
    (r"this reference cannot be changed so", "この暗証番号はこの命令では変更できません"),
    (r"the new value must be (.+)", "新しい値の形式: {0}"),
    (
        r"P2 must be 80 or 80 \+ a key's short EF identifier",
        "P2は80または80 + 鍵の短縮EF識別子です",
    ),
    (r"P2 must be 80 or 80 \+ a short EF identifier", "P2は80または80 + 短縮EF識別子です"),
    (r"bad short EF identifier", "短縮EF識別子が正しくありません"),
    (r"SELECT takes P1 = 00, 02 or 04", "SELECTのP1は00、02または04です"),
    (r"GET RESPONSE takes P1P2 = 0000", "GET RESPONSEのP1P2は0000です"),
    (r"no response is waiting", "取り出せる応答データがありません"),
    (r"GET RESPONSE needs Le", "GET RESPONSEにはLeが必要です"),
    (r"GET CHALLENGE takes P1P2 = 0000", "GET CHALLENGEのP1P2は0000です"),
    (r"GET CHALLENGE needs Le", "GET CHALLENGEにはLeが必要です"),
    (r"at most 256 bytes", "最大256バイトです"),
    (r"no EF is selectable before an application", "APを選択する前にEFは選択できません"),
    (r"no such file at this level", "この階層にそのファイルはありません"),
    (r"no MF to select", "選択できるMFはありません"),
    (r"no session-key delivery in this AP", "このAPにはセッション鍵の受け渡しがありません"),
    (r"EF ([0-9A-F]{4}) is not a private key", "EF {0}は秘密鍵ではありません"),
    (r"the key needs a VERIFY of (.+)", "この鍵には{0}の照合が必要です"),
    (r"no secure messaging in JPKI AP", "JPKI APにはセキュアメッセージングがありません"),
    (r"at most (\d+) bytes to sign", "署名できるのは最大{0}バイトです"),
    (r"select a key EF first", "先に鍵のEFを選択してください"),
    (r"住基ネット terminals only", "住基ネットの端末のみ"),
    (r"the cryptogram is (\d+) bytes \(extended Lc\)", "暗号文は{0}バイトです(拡張Lc)"),
    (r"cryptogram not below the modulus", "暗号文が法(モジュラス)以上です"),
    (
        r"expected A0 22 80 20 <32 bytes>: encryption key only",
        "A0 22 80 20 <32バイト>が必要です: 暗号化鍵のみ",
    ),
    (
        r"no checksum key: header authentication impossible",
        "チェックサム鍵がありません: ヘッダを認証できません",
    ),
    (r"the cryptogram does not decrypt \(OAEP\)", "暗号文を復号できません(OAEP)"),
)
_COMPILED = tuple((re.compile(en), ja) for en, ja in _REASONS)


def _japanese_names(group: str) -> str:
    """PIN names the card gives by their PinName value (``user_auth``) → Japanese names."""
    names = [p.strip() for p in group.split(",")]
    values = {pin.value: spec.name_ja for pin, spec in PIN_SPECS.items()}
    formats = {
        spec.format.description_en: spec.format.description_ja for spec in PIN_SPECS.values()
    }
    if group in formats:
        return formats[group]
    if all(name in values for name in names):
        return "または".join(values[name] for name in names)
    return group


def card_reason(reason: str) -> Text | None:
    """The card's reason in both languages; None when the table has no Japanese for it."""
    for pattern, ja in _COMPILED:
        match = pattern.fullmatch(reason)
        if match:
            return Text(reason, ja.format(*(_japanese_names(g) for g in match.groups())))
    return None
