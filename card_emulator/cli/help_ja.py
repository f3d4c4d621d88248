"""Japanese help for the commands whose help is written in English in their own module.

One language per run (issue 11): with ``LANG=ja_JP.UTF-8`` (or ``--lang ja``) every ``--help`` is in
Japanese. The teaching commands choose their texts themselves (``teach_util.help_text``); the
developer commands (``init``, ``info``, ``apdu``, ``serve``, ``face``, ``ctl``, ``trace``) keep their
English help beside their code, and this table holds the Japanese, applied to the click command tree
only when a Japanese run may show help (``cli.main``). ``tests/test_cli_help_ja.py`` checks that
every command and option of the tree has Japanese help, so a new one cannot be left out.

The keys are command paths (``""`` the root, ``"ctl trace start"``) and ``(path, parameter name)``;
``_ANY_COMMAND`` holds the texts of options that mean the same on every command that has them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

COMMANDS: dict[str, str] = {
    "": "テスト用のソフトウェア版マイナンバーカード。カードを読むソフトウェアの試験に。"
    "テスト鍵と架空の人物だけを使います。",
    "init": "架空の人物のカードを作り、そのデータ、初期(テスト用)暗証番号と照合番号A/Bを表示します。\n\n"
    "CARD を省くと既定のカード(とそのディレクトリ)を作ります。暗証番号が表示されるのはこの一度だけ"
    "です: カードはハッシュしか保持しません。",
    "info": "券面の人物、電子証明書、各暗証番号の残り回数(既定: 既定のカード)。\n\n"
    "`mynacard serve` が保持しているカードは、その制御チャネルを通して読みます。",
    "apdu": "APDUをプロセス内のカードに送り、各応答をステータスワードとともに表示します。\n\n"
    "カードの電源は一度だけ入れます: 選択と照合済みの暗証番号は、与えたAPDUの間ずっと続きます。"
    "VERIFY と CHANGE の暗証番号は出力でも --json でも伏せ字です。`mynacard serve` が保持している"
    "カードには、その制御チャネルを通して届きます。",
    "face": "券面事項確認APのEF 0002から券面のおもて面を描き、PNGとして保存します"
    "(既定: 既定のカード)。",
    "serve": "vsmartcard の vpcd ドライバーを通して pcscd にカードを提供します"
    "(SIGINT か SIGTERM まで)。\n\n"
    "先に PC/SC スタックを起動してください(scripts/pcsc-stack.sh start [--readers N])。PATH を省くと"
    "既定のカードを使い、初回に作ります(その初期テスト暗証番号は一度だけ標準エラーに表示)。"
    'pcscd がカードを認識すると "ready:" で始まる1行を標準出力に表示し(--ready-file にも書きます)、'
    "それまでの経過は標準エラーに出ます。\n\n"
    "実行中は `mynacard info|apdu|pin ... PATH` がその制御チャネル($XDG_RUNTIME_DIR の 0600 の Unix "
    "ソケット)を通してカードに届き、`mynacard ctl PATH ...` で操作できます: 状態、挿入、取り出し、"
    "電源の入れ直し、差し替え、スナップショット、復元、障害、トレース(docs/control-protocol.md)。"
    "SIGUSR1 / SIGUSR2 でも取り出し / 挿入できます。\n\n"
    "複数のカードを同時に: リーダーごとに serve プロセスを1つ、--reader 0 .. N-1。\n\n"
    "終了コード: 0 シグナルで停止、2 使い方かカードファイルの誤り、3 リーダーかカードが別のプロセスで"
    "提供中、4 --host の名前が引けない、5 --timeout のうちに準備できない。",
    "ctl": "提供中のカード(`mynacard serve PATH` の実行中)を操作: 状態、挿入、取り出し、"
    "電源の入れ直し、差し替え、スナップショット、復元、障害、トレース。",
    "ctl status": "リーダー、挿入・電源の状態、各暗証番号の残り回数(APDUは送りません)。",
    "ctl insert": "カードをリーダーに戻します。pcscd がカードを取り込む(電源を入れATRを読む)と"
    "終わります。",
    "ctl remove": "カードをリーダーから取り出します(pcscd は次のポーリング、約0.4秒以内に"
    "気づきます)。",
    "ctl power-cycle": "カードを取り出して挿し直します。\n\n"
    "選択と照合済みの暗証番号は失われ、回数は残ります。PC/SCクライアントには取り出しとして見え、"
    "接続し直す必要があります。",
    "ctl swap": "同じリーダーに別のカードファイルを入れます(再起動なし)。\n\n"
    "提供中のカードは抜かれ(ファイルは解放されます)、OTHER が入ります。以後は OTHER でサーバーを"
    "指定します。OTHER を開けなければ何も変わりません。",
    "ctl snapshot": "各暗証番号の値と回数を記録し、`restore` で戻せるようにします。",
    "ctl restore": "各暗証番号の値と回数を最後のスナップショットの時点に戻します。\n\n"
    "カードファイルにも書き込みます。カードはリーダーから抜かずにリセットされます(何も選択・照合"
    "されていない状態): PC/SCクライアントは接続を保ったまま選択し直します。",
    "ctl fault": "テストキットの障害を1つ、提供中のカードに加えます(`clear` ですべて取り除きます)。"
    "\n\n例: `fault force_status sw=6581 match=SIGN`、`fault latency ms=200`、"
    "`fault latency profile=contact`、`fault remove after=3`、"
    "`fault remove match=VERIFY reinsert_after=0`、`fault tear pin=user_auth`、"
    "`fault truncate match=00B0 keep=100`、`fault corrupt offset=-1`。"
    "提供中のカードでは、取り出しは本当にカードをリーダーから抜きます。reinsert_after=N なら"
    " N × 0.5 秒後に戻し(最低1秒: pcscd が抜けたことに気づく必要があります)、null なら `insert` "
    "まで抜けたままです。",
    "ctl faults": "障害をすべて PLAN の計画に置き換えます(回数は今から数えます)。",
    "ctl clear": "障害をすべて取り除きます(障害で取り出されたカードは抜けたまま: `insert` で"
    "戻します)。",
    "ctl trace": "PC/SCクライアントとのやりとりを記録します(JSON Lines、暗証番号は伏せ字)。",
    "ctl trace start": "今から、提供中のカードのやりとりと出来事をすべて FILE に記録します。",
    "ctl trace stop": "記録を止めます。ファイルはこれで完結します。",
    "trace": "カードのやりとりのトレース(JSON Lines、暗証番号は伏せ字): 表示、再生、比較。",
    "trace show": "トレースを表示: 各やりとりのステータスワード、暗証番号と残り回数、カードの理由、"
    "拒否ごとの診断、適用された障害、やりとりの間の出来事。",
    "trace replay": "トレースのコマンドをカードにもう一度送り、応答が最初に違ったところで止まります。",
    "trace diff": "2つのトレースをやりとりごとに比べ、最初の違いを diff として表示します。",
}

PARAMETERS: dict[tuple[str, str], str] = {
    ("", "version"): "バージョンを表示して終了。",
    ("", "verbose"): "標準エラーへのログを増やす: -v で info、-vv で debug。",
    ("", "log_level"): "debug、info、warning(既定)または error。どのコマンドの後にも書けます。",
    ("", "install_completion"): "今のシェルにタブ補完をインストール。",
    ("", "show_completion"): "今のシェル用の補完スクリプトを表示(コピーや調整に)。",
    ("init", "issued"): "発行日(既定: 固定のテスト日付)。",
    ("init", "variant"): "standard、under15(署名用電子証明書なし)または expired。",
    ("apdu", "args"): "カードファイル(省くと既定のカード)、続いて16進のコマンドAPDUを1引数に1つ。"
    "`-` なら標準入力から1行に1つ読みます(`#` 以降はコメント)。最初の引数は、`-` でもファイルを"
    "指さない16進のAPDUでもなければカードです。",
    ("apdu", "explain"): "各応答をわかりやすい言葉で説明。",
    ("face", "output"): "書き込むPNG。",
    (
        "face",
        "code",
    ): "照合番号A(マイナンバー)か B(生年月日・有効期限・セキュリティコード)で読みます。",
    ("serve", "path"): "提供するカードファイル(既定: 既定のカード、初回に作成)。",
    ("serve", "reader"): "vpcd のリーダー K: ポート 35963+K"
    "(scripts/pcsc-stack.sh start --readers N なら K < N)。",
    ("serve", "port"): "vpcd の TCP ポート(--reader の代わりに)。",
    ("serve", "host"): "vpcd が待ち受けるホスト。",
    ("serve", "ready_file"): "準備完了の行をこのファイルにも書きます。",
    ("serve", "timeout"): "この秒数のうちに pcscd がカードを取り込まなければあきらめます"
    "(終了コード5)。",
    ("serve", "trace"): "PC/SCクライアントとのやりとりをすべてこの JSON Lines ファイルに記録"
    "(暗証番号は伏せ字。docs/trace-format.md、`mynacard trace show FILE`)。",
    ("serve", "faults"): "この障害計画(JSON、docs/fault-plan.md)を最初から適用。",
    ("ctl", "path"): "提供中のカードファイル(または serve プロセスの制御ソケット)。",
    ("ctl swap", "other"): "代わりにリーダーに入れるカードファイル。",
    ("ctl fault", "kind"): "remove、tear、force_status、latency、truncate または corrupt。",
    ("ctl fault", "fields"): "障害の NAME=VALUE 項目(docs/fault-plan.md のとおり)。",
    ("ctl faults", "plan"): "障害の計画(JSON、docs/fault-plan.md)。",
    ("ctl trace start", "file"): "書き込むトレースファイル(docs/trace-format.md)。",
    ("trace show", "path"): "トレースファイル(.jsonl)のパス。",
    ("trace show", "refusals"): "拒否とその前後の出来事だけを表示。",
    ("trace replay", "path"): "トレースファイル(.jsonl)のパス。",
    ("trace replay", "card"): "このカードファイルの複製に対して再生(既定: トレースのカードを、"
    "そのシードと人物から作り直したもの)。",
    ("trace replay", "pin"): "再生に値が必要な暗証番号(--card と併用): 伏せ字で尋ねます。繰り返し"
    "指定できます。名前は `pin --pin` と同じ(signing、user_auth など)。",
    ("trace diff", "first"): "1つめのトレース(A、.jsonl)。",
    ("trace diff", "second"): "2つめのトレース(B、.jsonl)。",
}

# Options that mean the same wherever they appear (only where the command's own text is English).
_ANY_COMMAND: dict[str, str] = {
    "help": "このヘルプを表示して終了。",
    "as_json": "応答をJSONで表示。",
    "timeout": "pcscd がカードを取り込むまで待つ秒数。",
}


def walk(command: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, click command) of the tree under ``command``, itself first; groups' children
    in name order. ``command`` is what ``typer.main.get_command`` returns."""
    yield path, command
    for name, child in sorted(getattr(command, "commands", {}).items()):
        yield from walk(child, f"{path} {name}".strip())


def localise(root: Any, help_option_names: list[str]) -> None:
    """Put the Japanese texts of this module on the click command tree ``root`` (in place).

    Each command's help (and its short help, so group listings follow), each parameter's help, and
    the help option (``-h``/``--help``, created here as click would create it on first use, so its
    text can be set). A text already Japanese in the command's own module is left alone.
    """
    import typer

    for path, command in walk(root):
        if path in COMMANDS:
            command.help = COMMANDS[path]
            command.short_help = None
        help_option = command.get_help_option(
            typer.Context(command, help_option_names=help_option_names)
        )
        for param in [*command.params, *([help_option] if help_option is not None else [])]:
            text = PARAMETERS.get((path, param.name or ""))
            if text is None and not is_japanese(getattr(param, "help", None) or ""):
                text = _ANY_COMMAND.get(param.name or "")
            if text is not None:
                param.help = text


def is_japanese(text: str) -> bool:
    """Whether ``text`` is a Japanese sentence: it has hiragana (an English text naming 照合番号A or
    マイナンバーカード has none)."""
    return any("\u3041" <= ch <= "\u309f" for ch in text)
