"""``mynacard learn``: serve the learning page on 127.0.0.1 and print its address.

Loopback only, a free port by default; prints ``ready: http://127.0.0.1:PORT/`` once it answers and
opens a browser only with ``--open``. Stops on Ctrl-C or SIGTERM. The page: ``card_emulator.web``.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import Annotated

import typer

from card_emulator.cli.app import app
from card_emulator.cli.progress import progress
from card_emulator.cli.teach_util import LangOption, check_seed, fail, h, lang_of


@app.command(
    help=h("Serve the learning page (日本語 / English) on 127.0.0.1: the four PINs as counters, "
           "services day by day, a PIN pad, the reset wizard, the classic cases. Works offline.",
           "学習ページ(日本語 / English)を127.0.0.1で表示: 4つの暗証番号の残り回数、日ごとの"
           "サービス利用、暗証番号の入力、再設定の案内、よくある事例。オフラインで動きます。"),
)  # fmt: skip
def learn(
    port: Annotated[int, typer.Option(help=h("TCP port; 0 picks a free one.",
                                             "TCPポート。0なら空いているポート。"))] = 0,
    host: Annotated[str, typer.Option(help=h("A loopback address (127.0.0.1 or ::1).",
                                             "ループバックアドレス(127.0.0.1 または ::1)。"))]
    = "127.0.0.1",
    open_browser: Annotated[bool, typer.Option("--open", help=h(
        "Open the page in the default browser.", "既定のブラウザでページを開く。"))] = False,
    seed: Annotated[int, typer.Option(metavar="N", callback=check_seed, help=h(
        "Seed of the practice card (0 or more).", "練習用カードのシード(0以上)。"))] = 1,
    lang: LangOption = None,
) -> None:  # fmt: skip
    """Serve the learning page on a loopback address until Ctrl-C."""
    from card_emulator.teaching.i18n import pick
    from card_emulator.web.server import LearnApp, LearnError, make_server, url_of

    language = lang_of(lang)
    if not 0 <= port <= 65535:
        raise typer.BadParameter("0 to 65535", param_hint="--port")
    try:
        from card_emulator.web.server import check_loopback

        check_loopback(host)
    except LearnError as exc:
        raise fail(pick(language, str(exc), f"{host}: 学習ページはループバックアドレス"
                        "(127.0.0.1 または ::1)でのみ待ち受けます")) from None  # fmt: skip
    with progress(pick(language, f"making the practice card (seed {seed})",
                       f"練習用カード(シード{seed})を作成中")):  # fmt: skip
        learn_app = LearnApp(language, seed)
    try:
        server = make_server(learn_app, host, port)
    except OSError as exc:
        raise fail(
            pick(
                language,
                f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                f"{host}:{port}で待ち受けできません: {exc.strerror or exc}",
            )
        ) from None

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    url = url_of(server)
    typer.echo(f"ready: {url}")
    sys.stdout.flush()
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        learn_app.lesson.card.close()
