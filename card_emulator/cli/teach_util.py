"""What the teaching command groups share: options, language, PIN input, opening the card, output.

One language per run: ``--lang``, else ``LC_ALL``/``LC_MESSAGES``/``LANG``. Help texts are chosen
when the command line is read (``help_text``), so ``LANG=ja_JP.UTF-8 mynacard rules --help`` is in
Japanese. PIN values come from an environment variable or, on a terminal only, a hidden prompt;
they are never echoed nor logged.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from card_emulator.pin_names import SHORT_ALIASES, choices_text, parse_pin_name
from card_emulator.rules import USER_PINS, PinName
from card_emulator.teaching.i18n import Lang, Text, choose_lang, pick

# What a command needs (rich, the teaching tables, the card) is imported inside the functions:
# importing this module must stay cheap, it is on every `mynacard` start-up (cli/app.py).
if TYPE_CHECKING:
    from rich.console import Console

    from card_emulator.card import Card
    from card_emulator.teaching.explain import ExchangeLike


def _help_lang(argv: list[str]) -> Lang:
    """The language of help texts: ``--lang X`` / ``--lang=X`` on the command line, else locale."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value:
            try:
                return choose_lang(value)
            except ValueError:
                break
    return choose_lang(None)


HELP_LANG = _help_lang(sys.argv[1:])


def help_text(en: str, ja: str) -> str:
    """A help text in the language of this run (decided once, when the CLI is imported)."""
    return ja if HELP_LANG == Lang.JA else en


def localise_help_panels() -> None:
    """Japanese help, drawn by typer's rich help (``cli.app``: Japanese runs use it, because rich
    wraps Japanese text by its display width; click's plain help cannot): the panel titles in
    Japanese, and a flag shown without a value (this typer's rich help writes ``<bool>`` after
    ``--json``, as if it took one). Imports rich's help machinery: call it only to show help."""
    from typer import rich_utils
    from typer.core import TyperOption

    rich_utils.ARGUMENTS_PANEL_TITLE = "引数"
    rich_utils.OPTIONS_PANEL_TITLE = "オプション"
    rich_utils.COMMANDS_PANEL_TITLE = "コマンド"
    rich_utils.DEFAULT_STRING = "[既定: {}]"
    rich_utils.REQUIRED_LONG_STRING = "[必須]"
    rich_utils.ERRORS_PANEL_TITLE = "エラー"
    show_type = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag and self.metavar is None else show_type(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]

    # rich wraps at spaces only, and typer's help tables cut what does not fit with "…": a
    # Japanese help text (few spaces) lost its end. Japanese texts wrap between characters
    # instead (teaching.render's line breaker, which keeps ASCII tokens whole).
    from card_emulator.teaching.render import WrappedJapanese, wrappable

    make_rich_text = rich_utils._make_rich_text

    def make_wrapped_text(*, text: str, style: str = "", markup_mode: Any) -> Any:
        made = make_rich_text(text=text, style=style, markup_mode=markup_mode)
        plain = getattr(made, "plain", None)
        if isinstance(plain, str) and isinstance(wrappable(plain), WrappedJapanese):
            return WrappedJapanese(plain, style)
        return made

    rich_utils._make_rich_text = make_wrapped_text


h = help_text

LangOption = Annotated[
    str | None,
    typer.Option("--lang", help=h("ja or en (default: from LC_ALL / LANG).",
                                  "ja または en(既定: LC_ALL / LANG から)。")),
]  # fmt: skip
JsonOption = Annotated[
    bool, typer.Option("--json", help=h("Print JSON for scripts.", "スクリプト用にJSONで出力。"))
]
PathArgument = Annotated[
    Path | None,
    typer.Argument(metavar="CARD", help=h("The card file (default: the default card).",
                                          "カードファイル(既定: 既定のカード)。"),
                   readable=False),  # Card.open says in one line why a card file cannot be read
]  # fmt: skip


def complete_pin(incomplete: str) -> list[str]:
    """Shell completion of ``--pin``: the canonical names of the user PINs."""
    return [pin.value for pin in USER_PINS if pin.value.startswith(incomplete.replace("-", "_"))]


_PIN_CHOICES_JA = (
    f"どの暗証番号か: {'、'.join(pin.value for pin in USER_PINS)}(_ の代わりに - も使えます。"
    f"ほかに {'、'.join(a for a, pin in SHORT_ALIASES.items() if pin in USER_PINS and a.isascii())}"
    " も)。"
)
PinOption = Annotated[
    str,
    typer.Option("--pin", metavar="PIN", autocompletion=complete_pin, help=h(f"Which PIN: {choices_text(USER_PINS)}.",
                                                _PIN_CHOICES_JA)),
]  # fmt: skip
ExplainOption = Annotated[
    bool,
    typer.Option("--explain", help=h("Explain every APDU sent and the card's answer, one row each.",
                                     "送ったAPDUとカードの応答を1行ずつ説明。")),
]  # fmt: skip
ValueEnvOption = Annotated[
    str, typer.Option(help=h("Read the current PIN from this environment variable if set.",
                             "現在の暗証番号をこの環境変数から読む(設定されていれば)。")),
]  # fmt: skip
NewValueEnvOption = Annotated[
    str, typer.Option(help=h("Read the new PIN from this environment variable if set.",
                             "新しい暗証番号をこの環境変数から読む(設定されていれば)。")),
]  # fmt: skip
RawOption = Annotated[
    bool, typer.Option("--raw", help=h("Send values of the wrong format anyway.",
                                       "形式が違う値もそのままカードへ送る。")),
]  # fmt: skip


def check_seed(seed: int) -> int:
    """A card seed: a whole number from 0 (issue 12: a negative seed is refused, not a card)."""
    if seed < 0:
        raise typer.BadParameter(f"{seed} is negative: a seed is a whole number from 0")
    return seed


SeedOption = Annotated[
    int,
    typer.Option(metavar="N", callback=check_seed,
                 help=h("Same seed, same card: every answer byte for byte (the file itself "
                        "has a random card identity). 0 or more.",
                        "同じシードなら同じカード(応答はバイト単位で同一、ファイル自体は"
                        "カードごとの乱数IDを持つ)。0以上。")),
]  # fmt: skip

SHORT_PIN: dict[PinName, Text] = {
    PinName.SIGNING: Text("signing", "署名用"),
    PinName.USER_AUTH: Text("user-auth", "利用者証明用"),
    PinName.RESIDENT_REGISTRY: Text("resident", "住基"),
    PinName.TEXT_INPUT_HELPER: Text("text", "券面入力補助"),
}


def lang_of(option: str | None) -> Lang:
    """The language of this run; BadParameter for an unknown one."""
    try:
        return choose_lang(option)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lang") from None


def pin_of(name: str, allowed: tuple[PinName, ...] = USER_PINS) -> PinName:
    """One of ``allowed`` (default: the four user PINs) by its canonical name or an alias
    (``card_emulator.pin_names``); BadParameter listing the choices otherwise."""
    try:
        return parse_pin_name(name, allowed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--pin") from None


E = TypeVar("E", bound=Enum)


def choice_of(choices: type[E], value: str, option: str) -> E:
    """The member of the string enum ``choices`` whose value is ``value`` (case and ``_``/``-``
    forgiven); BadParameter listing the values otherwise (never the enum's class name)."""
    wanted = value.strip().lower().replace("_", "-")
    for member in choices:
        if str(member.value).lower().replace("_", "-") == wanted:
            return member
    names = [str(member.value) for member in choices]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    raise typer.BadParameter(f"{value!r}: choose {listed}", param_hint=option)


def when(text: str | None, option: str) -> datetime:
    """ISO date or date-time; a bare date means noon (Japan time), no value means now."""
    from card_emulator.teaching import reset as resets

    if text is None:
        return datetime.now(tz=resets.JST).replace(tzinfo=None, microsecond=0)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(12, 0))
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM", param_hint=option
        ) from None
    return parsed.astimezone(resets.JST).replace(tzinfo=None) if parsed.tzinfo else parsed


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``mynacard: message`` (one line) on stderr; the Exit to raise."""
    typer.echo(f"mynacard: {message}", err=True)
    return typer.Exit(code)


def stdin_is_tty() -> bool:
    """Whether a hidden prompt can be shown (tests replace this to drive the prompt)."""
    return sys.stdin is not None and sys.stdin.isatty()


def secret(env_name: str, prompt: str, lang: Lang, *, confirm: bool = False) -> str:
    """A PIN from ``$env_name`` or a hidden prompt. Never echoed, never logged.

    Without the variable and without a terminal to ask on, the command stops (exit 2): a PIN is
    never read from piped input, where it could not be hidden.
    """
    value = os.environ.get(env_name)
    if value is not None:
        return value
    if not _tty():
        raise fail(
            pick(
                lang,
                f"{prompt}: not given; set {env_name} (stdin is not a terminal, so it cannot "
                "be asked for)",
                f"{prompt}: 未指定です。{env_name}を設定してください(標準入力が端末ではないため"
                "入力を求められません)",
            )
        )
    entered: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    return entered


def _tty() -> bool:
    # Looked up through the module so that tests can replace ``stdin_is_tty``.
    return bool(sys.modules[__name__].stdin_is_tty())


# Which value of a PIN is asked for, as a prefix of its name.
CURRENT = Text("current ", "現在の")
NEW = Text("new ", "新しい")
PLAIN = Text("", "")


def read_pin(
    env_name: str,
    pin: PinName,
    lang: Lang,
    which: Text = PLAIN,
    *,
    check: bool = True,
    confirm: bool = False,
) -> str:
    """A value of ``pin`` from ``$env_name`` or a hidden prompt.

    With ``check``, a value of the wrong format stops the command (exit 2) and nothing is sent to
    the card; a near miss (full-width digits: 全角 → 半角) gets a hint. The value is never shown.
    """
    from card_emulator.rules import PIN_SPECS
    from card_emulator.teaching.pin_ops import near_miss

    spec = PIN_SPECS[pin]
    prompt = pick(lang, f"{which.en.capitalize()}{spec.name_en}", f"{which.ja}{spec.name_ja}")
    value = secret(env_name, prompt, lang, confirm=confirm)
    if check and not spec.format.accepts(value):
        hint = near_miss(pin, value)
        hint_text = pick(lang, f" Hint: {hint.en}.", f"ヒント: {hint.ja}。") if hint else ""
        raise fail(
            pick(
                lang,
                f"The {which.en}{spec.name_en} must be {spec.format.description_en}; nothing was "
                f"sent to the card (--raw sends it anyway, to show what the card does).{hint_text}",
                f"{which.ja}{spec.name_ja}は{spec.format.description_ja}です。カードには何も送って"
                f"いません(--rawを付けるとそのまま送り、カードの反応を確認できます)。{hint_text}",
            )
        )
    return value


@contextmanager
def open_card(path: Path | None, trace: list[ExchangeLike] | None = None) -> Iterator[Card]:
    """Open the card file (default: the default card); ``trace`` collects every exchange."""
    from card_emulator.paths import default_card_path
    from card_emulator.transport.control import open_card as open_or_reach

    card_path = path if path is not None else default_card_path()
    with open_or_reach(card_path) as card:  # the file, or the `mynacard serve` process holding it
        observer: Callable[[ExchangeLike], None] | None = None
        if trace is not None:
            observer = trace.append
            card.add_observer(observer)
        try:
            yield card
        finally:
            if observer is not None:
                card.remove_observer(observer)


def print_explained(trace: list[ExchangeLike], lang: Lang, out: Console | None = None) -> None:
    """The exchanges of a command as one table, one row each (``--explain``)."""
    from card_emulator.teaching.explain import explain_table
    from card_emulator.teaching.render import console

    if trace:
        (out or console()).print(explain_table(trace, lang))


def echo(*lines: Any) -> None:
    """Print rich renderables or plain strings on stdout, wrapped to the terminal."""
    from rich.text import Text as RichText

    from card_emulator.teaching.render import console, fit_cell

    out = console()
    for line in lines:
        out.print(fit_cell(line) if isinstance(line, str | RichText) else line)
