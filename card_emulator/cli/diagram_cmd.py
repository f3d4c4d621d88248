"""``mynacard diagram``: the developer's and the learner's PIN diagrams and the access tables,
generated from ``card_emulator.rules`` in both languages (``teaching.diagram``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from card_emulator.cli.app import app
from card_emulator.cli.teach_util import LangOption, fail, h, lang_of
from card_emulator.errors import EmulatorError


@app.command(
    help=h("Write docs/pin-lifecycle.*, docs/pin-learner.* (DOT, PNG) and docs/access-rules.md "
           "from the rules the card enforces.",
           "カードが守るルールから docs/pin-lifecycle.*、docs/pin-learner.*(DOT、PNG)と "
           "docs/access-rules.md を生成します。"),
)  # fmt: skip
def diagram(
    out: Annotated[Path, typer.Option(help=h("Directory to write into.", "出力先のディレクトリ。"))]
    = Path("docs"),
    png: Annotated[bool, typer.Option(help=h("Render the PNGs with Graphviz dot.",
                                             "Graphviz の dot で PNG も描く。"))] = True,
    check: Annotated[bool, typer.Option("--check", help=h(
        "Only check that the committed DOT/Markdown are current.",
        "コミット済みの DOT/Markdown が最新かだけを確認。"))] = False,
    show: Annotated[str | None, typer.Option(help=h(
        "Print instead of writing: dot, learner or markdown.",
        "書き出さずに表示: dot、learner または markdown。"))] = None,
    lang: LangOption = None,
) -> None:  # fmt: skip
    """Write the diagrams and docs/access-rules.md from card_emulator.rules."""
    from card_emulator.teaching.diagram import (
        access_rules_markdown,
        learner_dot,
        lifecycle_dot,
        stale_docs,
        write_docs,
    )

    if show is not None:
        shows = {"dot": lambda: lifecycle_dot(lang_of(lang)),
                 "learner": lambda: learner_dot(lang_of(lang)),
                 "markdown": access_rules_markdown}  # fmt: skip
        if show not in shows:
            raise typer.BadParameter("dot, learner or markdown", param_hint="--show")
        typer.echo(shows[show](), nl=False)
        return
    if check:
        if not out.is_dir():  # --check never creates it (a wrong working directory is likely)
            raise fail(
                f"no docs directory at {out.absolute()}; run from the repository root or give --out"
            )
        stale = stale_docs(out)
        if stale:
            raise fail(f"out of date: {', '.join(stale)}; run `mynacard diagram`", 1)
        typer.echo("docs are current")
        return
    try:
        written = write_docs(out, png=png)
    except EmulatorError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write to {out}: {exc.strerror or exc}") from None
    for path in written:
        typer.echo(f"wrote {path}")
