"""``mynacard diagram``: the developer's and the learner's PIN diagrams and the access tables,
generated from ``card_emulator.rules`` in both languages (``teaching.diagram``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from card_emulator.cli.app import app
from card_emulator.cli.teach_util import LangOption, fail, h, lang_of
from card_emulator.errors import EmulatorError


def find_checkout(start: Path) -> Path | None:
    """The root of the mynumber-card-emulator checkout that ``start`` is in, or None: the first
    directory from ``start`` upwards whose pyproject.toml names the project."""
    for folder in (start, *start.parents):
        project = folder / "pyproject.toml"
        try:
            if project.is_file() and 'name = "mynumber-card-emulator"' in project.read_text(
                encoding="utf-8"
            ):
                return folder
        except OSError:
            continue
    return None


def docs_directory(out: Path | None) -> Path:
    """``--out``, else the ``docs`` directory of the checkout the working directory is in.

    Outside a checkout nothing is guessed (a ``./docs`` would be created anywhere): one line and
    exit 2.
    """
    if out is not None:
        return out
    checkout = find_checkout(Path.cwd())
    if checkout is None:
        raise fail(
            f"{Path.cwd()} is not inside a checkout of mynumber-card-emulator: give --out DIR "
            "(or run from the repository)"
        )
    return checkout / "docs"


def check_writable(out: Path) -> None:
    """Refuse, naming the path, an --out that cannot be written, before anything else is
    checked (Graphviz) or written: not a directory, a missing parent, no write permission."""
    if out.exists():
        target = out
        if not out.is_dir():
            raise fail(f"cannot write to {out}: not a directory")
    else:
        target = out.parent
        if not target.is_dir():
            raise fail(f"cannot write to {out}: {target} does not exist (only {out.name} is made)")
    if not os.access(target, os.W_OK | os.X_OK):
        raise fail(f"cannot write to {out}: {target} is not writable")


@app.command(
    help=h("Write docs/pin-lifecycle.*, docs/pin-learner.* (DOT, PNG) and docs/access-rules.md "
           "from the rules the card enforces (into the checkout's docs/, or --out).",
           "カードが守るルールから docs/pin-lifecycle.*、docs/pin-learner.*(DOT、PNG)と "
           "docs/access-rules.md を生成します(チェックアウトの docs/ または --out へ)。"),
)  # fmt: skip
def diagram(
    out: Annotated[Path | None, typer.Option(metavar="DIR", help=h(
        "Directory to write into (default: docs/ of the checkout the working directory is in).",
        "出力先のディレクトリ(既定: 作業ディレクトリを含むチェックアウトの docs/)。"))] = None,
    png: Annotated[bool, typer.Option(help=h("Render the PNGs with Graphviz dot.",
                                             "Graphviz の dot で PNG も描く。"))] = True,
    check: Annotated[bool, typer.Option("--check", help=h(
        "Only check that the committed DOT/Markdown are current.",
        "コミット済みの DOT/Markdown が最新かだけを確認。"))] = False,
    show: Annotated[str | None, typer.Option(metavar="WHAT", help=h(
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
    folder = docs_directory(out)
    if check:
        if not folder.is_dir():  # --check never creates it
            raise fail(f"no docs directory at {folder.absolute()}; give --out")
        stale = stale_docs(folder)
        if stale:
            raise fail(f"out of date: {', '.join(stale)}; run `mynacard diagram`", 1)
        typer.echo("docs are current")
        return
    check_writable(folder)
    try:
        written = write_docs(folder, png=png)
    except EmulatorError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write to {folder}: {exc.strerror or exc}") from None
    for path in written:
        typer.echo(f"wrote {path}")
