"""Teaching commands: ``rules``, ``pin status|verify|change|reset``, ``simulate``, ``diagram``.

Everything shown is rendered from ``card_emulator.rules`` or read from the card's answers. PIN values
are read from an environment variable or, on a terminal only, a hidden prompt; never echoed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from card_emulator.cli.app import app
from card_emulator.errors import EmulatorError
from card_emulator.rules import MAY_SHARE_VALUE, PIN_SPECS, USER_PINS, PinName
from card_emulator.teaching import reset as resets
from card_emulator.teaching.explain import (
    explain_exchange,
    explain_status_word,
    next_wrong_entry,
    pin_name,
)
from card_emulator.teaching.i18n import Lang, Text, choose_lang, pick
from card_emulator.teaching.render import (
    Style,
    colour_enabled,
    display_width,
    paint,
    table,
    to_json,
)

if TYPE_CHECKING:
    from card_emulator.card import Card
    from card_emulator.teaching.explain import ExchangeLike
    from card_emulator.teaching.scenario import Timeline, TimelineEntry

pin_app = typer.Typer(
    help="Check, change and reset the card's PINs, explained (values are never shown).",
    no_args_is_help=True,
)
app.add_typer(pin_app, name="pin")

LangOption = Annotated[
    str | None, typer.Option("--lang", help="ja or en (default: from LC_ALL / LANG).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
PathArgument = Annotated[
    Path | None, typer.Argument(help="The card file (default: the default card).")
]
PinOption = Annotated[str, typer.Option("--pin", help="signing, user-auth, resident or text.")]
ExplainOption = Annotated[
    bool, typer.Option("--explain", help="Explain every APDU sent and the card's answer.")
]
ValueEnvOption = Annotated[
    str, typer.Option(help="Read the current PIN from this environment variable if set.")
]
NewValueEnvOption = Annotated[
    str, typer.Option(help="Read the new PIN from this environment variable if set.")
]
RawOption = Annotated[bool, typer.Option("--raw", help="Send values of the wrong format anyway.")]

SHORT_PIN: dict[PinName, Text] = {
    PinName.SIGNING: Text("signing", "署名用"),
    PinName.USER_AUTH: Text("user-auth", "利用者証明用"),
    PinName.RESIDENT_REGISTRY: Text("resident", "住基"),
    PinName.TEXT_INPUT_HELPER: Text("text", "券面入力補助"),
}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _lang(option: str | None) -> Lang:
    try:
        return choose_lang(option)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lang") from None


def _pin(name: str) -> PinName:
    try:
        pin = resets.parse_pin(name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--pin") from None
    if pin not in USER_PINS:
        raise typer.BadParameter("use signing, user-auth, resident or text", param_hint="--pin")
    return pin


def _when(text: str | None, option: str) -> datetime:
    """ISO date or date-time; a bare date means noon (Japan time), no value means now."""
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


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"mynacard: {message}", err=True)
    return typer.Exit(code)


def _stdin_is_tty() -> bool:
    """Whether a hidden prompt can be shown (tests replace this to drive the prompt)."""
    return sys.stdin is not None and sys.stdin.isatty()


def _secret(env_name: str, prompt: str, lang: Lang, *, confirm: bool = False) -> str:
    """A PIN from ``$env_name`` or a hidden prompt. Never echoed, never logged.

    Without the variable and without a terminal to ask on, the command stops (exit 2): a PIN is
    never read from piped input, where it could not be hidden.
    """
    value = os.environ.get(env_name)
    if value is not None:
        return value
    if not _stdin_is_tty():
        raise _fail(
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


# Which value of a PIN is asked for, as a prefix of its name.
_CURRENT = Text("current ", "現在の")
_NEW = Text("new ", "新しい")
_PLAIN = Text("", "")


def _read_pin(
    env_name: str,
    pin: PinName,
    lang: Lang,
    which: Text = _PLAIN,
    *,
    check: bool = True,
    confirm: bool = False,
) -> str:
    """A value of ``pin`` from ``$env_name`` or a hidden prompt.

    With ``check``, a value of the wrong format stops the command: nothing is sent to the card.
    """
    spec = PIN_SPECS[pin]
    prompt = pick(lang, f"{which.en.capitalize()}{spec.name_en}", f"{which.ja}{spec.name_ja}")
    value = _secret(env_name, prompt, lang, confirm=confirm)
    if check and not spec.format.accepts(value):
        raise _fail(
            pick(
                lang,
                f"The {which.en}{spec.name_en} must be {spec.format.description_en}; nothing was "
                "sent to the card (--raw sends it anyway, to show what the card does).",
                f"{which.ja}{spec.name_ja}は{spec.format.description_ja}です。カードには何も送って"
                "いません(--rawを付けるとそのまま送り、カードの反応を確認できます)。",
            )
        )
    return value


@contextmanager
def _open(path: Path | None, explain: bool, lang: str) -> Iterator[Card]:
    """Open the card; with ``explain``, print every exchange's explanation as it happens."""
    from card_emulator.paths import default_card_path
    from card_emulator.transport.control import open_card  # the card, or its serve process

    card_path = path if path is not None else default_card_path()
    with open_card(card_path) as card:
        printer: Callable[[ExchangeLike], None] | None = None
        if explain:

            def printer(exchange: ExchangeLike) -> None:
                typer.echo(explain_exchange(exchange, lang))
                typer.echo("")

            card.add_observer(printer)
        try:
            yield card
        finally:
            if printer is not None:
                card.remove_observer(printer)


def _tries_from(answer: resets.PinAnswer) -> int | None:
    if answer.ok:
        return PIN_SPECS[answer.pin].max_tries
    if answer.sw == 0x6984:
        return 0
    return answer.tries_left


def _answer_dict(answer: resets.PinAnswer) -> dict[str, Any]:
    tries = _tries_from(answer)
    return {
        "pin": answer.pin.value,
        "sw": f"{answer.sw:04X}",
        "step": answer.step,
        "ok": answer.ok,
        "tries_left": tries,
        "max_tries": PIN_SPECS[answer.pin].max_tries,
        "locked": tries == 0,
    }


def _answer_text(answer: resets.PinAnswer, lang: str, colour: bool) -> list[str]:
    pin, sw = answer.pin, answer.sw
    spec = PIN_SPECS[pin]
    lines: list[str] = []
    if answer.step in ("select_app", "select_ef"):
        lines.append(
            paint(
                pick(
                    lang,
                    f"This card has no {spec.name_en}.",
                    f"このカードには{spec.name_ja}がありません。",
                ),
                Style.WARN,
                colour,
            )
        )
        lines.append(explain_status_word(sw, lang))
        return lines
    tries = _tries_from(answer)
    if answer.ok:
        head = pick(lang, f"OK ({sw:04X})", f"成功({sw:04X})")
        lines.append(paint(head, Style.OK, colour))
        if answer.step == "change":
            lines.append(
                pick(
                    lang,
                    f"The {spec.name_en} has its new value; {tries}/{spec.max_tries} tries.",
                    f"{spec.name_ja}を変更しました。残り{tries}/{spec.max_tries}回。",
                )
            )
        else:
            lines.append(
                pick(
                    lang,
                    f"Correct: the counter is back to {tries}/{spec.max_tries}.",
                    f"一致しました。残り回数は{tries}/{spec.max_tries}回に戻りました。",
                )
            )
        return lines
    left = answer.tries_left
    if answer.step == "verify" and left is not None:
        head = (
            pick(lang, f"{sw:04X} wrong {spec.name_en}: {left} of {spec.max_tries} tries left.",
                 f"{sw:04X} {spec.name_ja}が違います: 残り{left}回(最大{spec.max_tries}回)。")
            if left
            else pick(lang, f"{sw:04X} wrong {spec.name_en}: no tries left, it is now locked.",
                      f"{sw:04X} {spec.name_ja}が違います: 残り回数がなくなり、ロックされました。")
        )  # fmt: skip
    else:
        head = explain_status_word(sw, lang)
    lines.append(paint(head, Style.ERROR, colour))
    if answer.step == "verify" and tries is not None:
        if left is not None:
            lines.append(
                pick(
                    lang,
                    "The wrong entry counts on the card.",
                    "誤入力としてカードに数えられました。",
                )
            )
        lines.append(next_wrong_entry(pin, tries, lang))
    return lines


# ---------------------------------------------------------------------------------------------
# mynacard rules
# ---------------------------------------------------------------------------------------------


def _rules_data(on: date) -> dict[str, Any]:
    rule = resets.kiosk_rule_on(on)
    kiosk = resets.KIOSK_PINS[rule]
    pins = []
    for pin in USER_PINS:
        spec = PIN_SPECS[pin]
        channels = ["window"] + (["kiosk"] if pin in kiosk else [])
        pins.append({
            "pin": pin.value,
            "cli_name": resets.CLI_PIN_NAME[pin],
            "name": {"en": spec.name_en, "ja": spec.name_ja},
            "purpose": {"en": spec.purpose_en, "ja": spec.purpose_ja},
            "format": {"en": spec.format.description_en, "ja": spec.format.description_ja},
            "max_tries": spec.max_tries,
            "reset_channels": channels,
            "kiosk_needs": kiosk[pin].value if pin in kiosk else None,
            "may_share_value_with": [
                p.value for p in sorted(MAY_SHARE_VALUE) if p != pin and pin in MAY_SHARE_VALUE
            ],
        })  # fmt: skip
    return {
        "date": on.isoformat(),
        "kiosk_rule": rule.value,
        "kiosk_rule_2025_from": resets.RULE_2025_FROM.isoformat(),
        "kiosk_rule_2025_from_is_assumed": True,
        "pins": pins,
        "channels": [
            {"channel": ch.value, "pins": [p.value for p in ps], "conditions": text.as_dict()}
            for ch, ps, text in resets.reset_channels(on)
        ],
    }


@app.command()
def rules(
    lang: LangOption = None,
    as_json: JsonOption = False,
    on: Annotated[
        str | None, typer.Option("--date", help="Rules in force on YYYY-MM-DD (default today).")
    ] = None,
) -> None:
    """The four PINs and the ways to reset them, from the rule data the card enforces."""
    language = _lang(lang)
    day = _when(on, "--date").date()
    data = _rules_data(day)
    if as_json:
        typer.echo(to_json(data))
        return
    colour = colour_enabled(sys.stdout)
    rule = resets.kiosk_rule_on(day)
    kiosk = resets.KIOSK_PINS[rule]
    rows = []
    for pin in USER_PINS:
        spec = PIN_SPECS[pin]
        locks = pick(
            language,
            f"{spec.max_tries} wrong entries in a row,\ncounted on the card across\n"
            "services and days",
            f"連続{spec.max_tries}回の誤入力\n(カードに記録され、サービスや\n日付をまたいで累積)",
        )
        resets_by = pick(language, "municipal window", "市区町村の窓口")
        if pin in kiosk:
            other = SHORT_PIN[kiosk[pin]](language)
            resets_by += pick(language, f"\nkiosk (needs the {other} PIN)",
                              f"\nキオスク端末({other}の暗証番号が必要)")  # fmt: skip
        if pin in MAY_SHARE_VALUE:
            shares = pick(language, "may share one value with\n", "同じ値にできる:\n") + ", ".join(
                SHORT_PIN[p](language) for p in USER_PINS if p in MAY_SHARE_VALUE and p != pin
            )
        else:
            shares = pick(language, "cannot equal the others\n(format differs)",
                          "他と同じにできない\n(形式が異なる)")  # fmt: skip
        rows.append([
            f"{pin_name(pin, language)}\n(--pin {resets.CLI_PIN_NAME[pin]})",
            _wrap(spec.purpose_ja if language == Lang.JA else spec.purpose_en, 30, language),
            _wrap(spec.format.description_ja if language == Lang.JA else spec.format.description_en,
                  24, language),
            str(spec.max_tries),
            locks,
            resets_by,
            shares,
        ])  # fmt: skip
    headers = [
        pick(language, "PIN", "暗証番号"),
        pick(language, "Used for", "用途"),
        pick(language, "Format", "形式"),
        pick(language, "Tries", "回数"),
        pick(language, "What locks it", "ロックの条件"),
        pick(language, "What resets it", "再設定の場所"),
        pick(language, "Same value", "同じ値"),
    ]
    typer.echo(table(headers, rows, colour=colour))
    typer.echo("")
    typer.echo(paint(pick(language, f"Reset channels on {day.isoformat()} ({rule.value} rule)",
                          f"{day.isoformat()}時点の再設定の方法({rule.value}年のルール)"),
                     Style.BOLD, colour))  # fmt: skip
    channel_rows = [
        [
            pick(language, "municipal window", "市区町村の窓口") if ch == resets.Channel.WINDOW
            else pick(language, "convenience-store kiosk", "コンビニのキオスク端末"),
            ", ".join(SHORT_PIN[p](language) for p in ps),
            _wrap(text(language), 60, language),
        ]
        for ch, ps, text in resets.reset_channels(day)
    ]  # fmt: skip
    typer.echo(table([pick(language, "Channel", "方法"), pick(language, "PINs", "暗証番号"),
                      pick(language, "Conditions", "条件")], channel_rows, colour=colour))  # fmt: skip
    typer.echo("")
    for note in _rules_notes():
        typer.echo(f"- {note(language)}")


def _rules_notes() -> list[Text]:
    return [
        Text("One correct entry restores the full count; a locked PIN stays locked even when the "
             "correct value is remembered (seeds 004, 002).",
             "正しく1回入力すると回数は戻ります。ロックされた暗証番号は、正しい値を思い出しても"
             "再設定しない限り解除されません(004, 002)。"),
        Text("Change needs the current PIN and cannot unlock; a forgotten PIN needs a reset even "
             "when not locked (003, 004).",
             "変更には現在の暗証番号が必要で、ロック解除はできません。忘れた場合はロックされていなくても"
             "再設定が必要です(003, 004)。"),
        Text(f"Kiosk rule by date: 2024 rule (002) before {resets.RULE_2025_FROM.isoformat()}, "
             "2025 rule (004) from then; the cut-over day is an assumption (no seed gives it).",
             f"キオスク端末のルール: {resets.RULE_2025_FROM.isoformat()}より前は2024年のルール(002)、"
             "以後は2025年のルール(004)。切替日は仮定です(資料に日付なし)。"),
        Text("An expired certificate is not fixed by a PIN reset: it is re-issued at the window "
             "(004).", "電子証明書の有効期限切れは暗証番号の再設定では直らず、窓口で再発行します(004)。"),
    ]  # fmt: skip


_NO_LINE_START = frozenset("、。，．）)」』】・ー")
_ACTION_NAMES: dict[str, Text] = {
    "verify": Text("verify", "照合"),
    "query": Text("query", "残り回数の確認"),
    "change": Text("change", "変更"),
    "reset": Text("reset", "再設定"),
    "reserve": Text("reserve", "予約"),
    "power_cycle": Text("power cycle", "電源再投入"),
    "window": Text("window", "窓口"),
    "kiosk": Text("kiosk", "キオスク端末"),
}


def _wrap(text: str, width: int, lang: str) -> str:
    """Wrap at spaces (English) or by characters (Japanese, two columns each)."""
    if lang == Lang.JA:
        out, current = [], ""
        for char in text:
            # Closing punctuation never starts a line (kinsoku): let it overhang instead.
            if current and display_width(current + char) > width and char not in _NO_LINE_START:
                out.append(current)
                current = ""
            current += char
        return "\n".join([*out, current] if current else out)
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# mynacard pin status|verify|change|reset
# ---------------------------------------------------------------------------------------------


@pin_app.command("status")
def pin_status(
    path: PathArgument = None,
    lang: LangOption = None,
    as_json: JsonOption = False,
    explain: ExplainOption = False,
) -> None:
    """Tries left of each PIN, asked with VERIFY without data (spends nothing)."""
    language = _lang(lang)
    with _open(path, explain and not as_json, language) as card:
        answers = [resets.query_pin(card, pin) for pin in USER_PINS]
    if as_json:
        typer.echo(to_json({"pins": [_answer_dict(a) for a in answers]}))
        return
    colour = colour_enabled(sys.stdout)
    rows = []
    for answer in answers:
        spec = PIN_SPECS[answer.pin]
        if answer.step != "query":
            state = pick(language, "not on this card", "このカードにはなし")
            tries = "-"
        else:
            left = _tries_from(answer)
            tries = f"{left}/{spec.max_tries}" if left is not None else "?"
            if left == 0:
                state = paint(pick(language, "LOCKED: reset needed", "ロック中: 再設定が必要"),
                              Style.ERROR, colour)  # fmt: skip
            elif left is not None and left < spec.max_tries:
                state = paint(pick(language, f"{spec.max_tries - left} wrong so far",
                                   f"{spec.max_tries - left}回誤入力"), Style.WARN, colour)  # fmt: skip
            else:
                state = pick(language, "ok", "正常")
        rows.append([pin_name(answer.pin, language), f"{answer.sw:04X}", tries, state])
    headers = [pick(language, "PIN", "暗証番号"), "SW", pick(language, "Tries left", "残り回数"),
               pick(language, "State", "状態")]  # fmt: skip
    typer.echo(table(headers, rows, colour=colour))


@pin_app.command("verify")
def pin_verify(
    path: PathArgument = None,
    pin: PinOption = "user-auth",
    value_env: ValueEnvOption = "MYNACARD_PIN",
    raw: RawOption = False,
    lang: LangOption = None,
    as_json: JsonOption = False,
    explain: ExplainOption = False,
) -> None:
    """VERIFY a PIN: SELECT its application and EF, then VERIFY. A wrong value counts."""
    language, name = _lang(lang), _pin(pin)

    def operation(card: Card) -> resets.PinAnswer:
        value = _read_pin(value_env, name, language, check=not raw)
        return resets.verify_pin(card, name, value)

    _run_pin_operation(operation, path, language, as_json, explain)


def _run_pin_operation(
    operation: Callable[[Card], resets.PinAnswer],
    path: Path | None,
    language: Lang,
    as_json: bool,
    explain: bool,
) -> None:
    """Open the card, run ``operation`` on it and print its answer; exit 1 unless 9000.

    The card is opened before ``operation`` asks for any PIN: a missing or bad card file stops
    the command first (card_emulator.errors.CardFileError, one line, exit 2).
    """
    with _open(path, explain and not as_json, language) as card:
        answer = operation(card)
    if as_json:
        typer.echo(to_json(_answer_dict(answer)))
    else:
        for line in _answer_text(answer, language, colour_enabled(sys.stdout)):
            typer.echo(line)
    if not answer.ok:
        raise typer.Exit(1)


@pin_app.command("change")
def pin_change(
    path: PathArgument = None,
    pin: PinOption = "user-auth",
    value_env: ValueEnvOption = "MYNACARD_PIN",
    new_value_env: NewValueEnvOption = "MYNACARD_NEW_PIN",
    raw: RawOption = False,
    lang: LangOption = None,
    as_json: JsonOption = False,
    explain: ExplainOption = False,
) -> None:
    """Change a PIN: VERIFY the current one (a wrong one counts), then CHANGE to the new one."""
    language, name = _lang(lang), _pin(pin)

    def operation(card: Card) -> resets.PinAnswer:
        current = _read_pin(value_env, name, language, _CURRENT, check=not raw)
        new = _read_pin(new_value_env, name, language, _NEW, check=not raw, confirm=True)
        return resets.change_pin(card, name, current, new)

    _run_pin_operation(operation, path, language, as_json, explain)


@pin_app.command("reset")
def pin_reset(
    path: PathArgument = None,
    pin: PinOption = "signing",
    via: Annotated[str, typer.Option(help="window (市区町村窓口) or kiosk (コンビニ).")] = "window",
    applicant: Annotated[
        str, typer.Option(help="holder, legal-representative or voluntary-proxy (window).")
    ] = "holder",
    on: Annotated[
        str | None,
        typer.Option("--date", help="When: YYYY-MM-DD (noon) or YYYY-MM-DDTHH:MM (default now)."),
    ] = None,
    reserved_at: Annotated[
        str | None,
        typer.Option(help="Kiosk: when step 1 (app reservation) was done; default: just now."),
    ] = None,
    new_value_env: NewValueEnvOption = "MYNACARD_NEW_PIN",
    other_value_env: Annotated[
        str, typer.Option(help="Kiosk: read the other JPKI PIN from this variable if set.")
    ] = "MYNACARD_OTHER_PIN",
    other_unknown: Annotated[
        bool, typer.Option("--other-unknown", help="Kiosk: the other JPKI PIN is unknown too.")
    ] = False,
    mail_forwarded: Annotated[
        bool, typer.Option(help="Voluntary proxy: the holder's mail is forwarded elsewhere.")
    ] = False,
    reply_incomplete: Annotated[
        bool, typer.Option(help="Voluntary proxy: the inquiry reply is incomplete.")
    ] = False,
    reply_not_hidden: Annotated[
        bool, typer.Option(help="Voluntary proxy: the PIN on the reply is not hidden.")
    ] = False,
    plan_only: Annotated[
        bool, typer.Option("--plan-only", help="Show the plan and refusals; leave the card.")
    ] = False,
    lang: LangOption = None,
    as_json: JsonOption = False,
    explain: ExplainOption = False,
) -> None:
    """Reset (再設定・初期化) a forgotten or locked PIN at the window or a kiosk, as a model.

    Refusals say why. The kiosk checks the other JPKI PIN on the card: a wrong one counts there.
    """
    language = _lang(lang)
    name = _pin(pin)
    try:
        channel = resets.Channel(via)
        who = resets.Applicant(applicant)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    at = _when(on, "--date")
    reserved = _when(reserved_at, "--reserved-at") if reserved_at else None
    request = resets.ResetRequest(
        name, channel, at, applicant=who, reserved_at=reserved or at,
        mail_forwarded=mail_forwarded, reply_complete=not reply_incomplete,
        reply_pin_hidden=not reply_not_hidden,
    )  # fmt: skip
    plan = resets.plan_for(name, channel, who, at.date())
    # Refusals that need neither the card nor a value: said before anything is asked for.
    early = resets.check_request(request, other_known=not other_unknown)
    if plan_only or early:
        outcome = resets.ResetOutcome(request, resets.kiosk_rule_on(at.date()), False, early, plan)
        _print_reset(outcome, language, as_json, planned_only=not early)
        raise typer.Exit(1 if early else 0)
    # The card first: a missing or bad card file stops the command before any PIN is asked for.
    with _open(path, explain and not as_json, language) as card:
        other_value: str | None = None
        if channel == resets.Channel.KIOSK:
            other = resets.KIOSK_PINS[resets.kiosk_rule_on(at.date())][name]
            other_value = _secret(
                other_value_env,
                pick(language, f"{PIN_SPECS[other].name_en} (the kiosk checks it on the card)",
                     f"{PIN_SPECS[other].name_ja}(キオスク端末がカードで照合)"),
                language,
            ) or None  # fmt: skip
        # No format check here: the reset itself refuses a bad new value, with its reason.
        new = _read_pin(new_value_env, name, language, _NEW, check=False, confirm=True)
        if channel == resets.Channel.KIOSK and reserved is None:
            step1 = resets.reserve_kiosk(card, name, other_value, at)
            if not step1.done:
                _print_reset(step1, language, as_json)
                raise typer.Exit(1)
        outcome = resets.reset_pin(card, request, new, other_value=other_value)
        status = card.issuer.pin_status(name) if outcome.done else None
    _print_reset(outcome, language, as_json, tries=status.remaining if status else None)
    if not outcome.done:
        raise typer.Exit(1)


def _outcome_dict(outcome: resets.ResetOutcome, tries: int | None) -> dict[str, Any]:
    plan = outcome.plan
    return {
        "pin": outcome.request.pin.value,
        "channel": outcome.request.channel.value,
        "applicant": outcome.request.applicant.value,
        "at": outcome.request.at.isoformat(),
        "kiosk_rule": outcome.rule.value,
        "done": outcome.done,
        "refusals": [
            {"code": r.code.value, "source": r.source, **r.text.as_dict()} for r in outcome.refusals
        ],
        "kiosk_verify_sw": f"{outcome.verify_sw:04X}" if outcome.verify_sw is not None else None,
        "tries_left": tries,
        "plan": None if plan is None else {
            "visits": plan.visits,
            "steps": [
                {"visit": s.visit, "where": s.where.as_dict(), "what": s.what.as_dict(),
                 "brings": [b.as_dict() for b in s.brings]}
                for s in plan.steps
            ],
            "notes": [n.as_dict() for n in plan.notes],
        },
    }  # fmt: skip


def _print_reset(
    outcome: resets.ResetOutcome,
    lang: Lang,
    as_json: bool,
    *,
    planned_only: bool = False,
    tries: int | None = None,
) -> None:
    if as_json:
        typer.echo(to_json(_outcome_dict(outcome, tries)))
        return
    colour = colour_enabled(sys.stdout)
    request = outcome.request
    spec = PIN_SPECS[request.pin]
    typer.echo(paint(pick(
        lang,
        f"Reset of the {spec.name_en} — {request.channel.value}, {request.applicant.value}, "
        f"{request.at:%Y-%m-%d %H:%M} ({outcome.rule.value} rule)",
        f"{spec.name_ja}の再設定 — "
        f"{'窓口' if request.channel == resets.Channel.WINDOW else 'キオスク端末'}、"
        f"{request.at:%Y-%m-%d %H:%M}({outcome.rule.value}年のルール)",
    ), Style.BOLD, colour))  # fmt: skip
    if outcome.refusals:
        typer.echo(paint(pick(lang, "Refused:", "受け付けられません:"), Style.ERROR, colour))
        for refusal in outcome.refusals:
            typer.echo(f"  - {refusal.text(lang)} [{refusal.source}]")
        return
    plan = outcome.plan
    if plan is not None:
        typer.echo(pick(lang, f"Plan: {plan.visits} visit(s)", f"手順: 来庁・来店{plan.visits}回"))
        for step in plan.steps:
            mark = (pick(lang, f"visit {step.visit}", f"{step.visit}回目") if step.visit
                    else pick(lang, "meanwhile", "その間"))  # fmt: skip
            typer.echo(f"  [{mark}] {step.where(lang)}: {step.what(lang)}")
            for item in step.brings:
                typer.echo(f"      {pick(lang, 'bring', '持ち物')}: {item(lang)}")
        for note in plan.notes:
            typer.echo(f"  * {note(lang)}")
    if planned_only:
        return
    if outcome.done:
        done = pick(
            lang,
            f"Done: the {spec.name_en} has its new value and {tries}/{spec.max_tries} tries.",
            f"完了: {spec.name_ja}は新しい値になり、残り{tries}/{spec.max_tries}回です。",
        )
        if request.channel == resets.Channel.WINDOW and plan is not None and plan.visits > 1:
            done += pick(lang, " (modelled: the card is reset as at the last visit)",
                         "(モデル: 最後の来庁時点で再設定)")  # fmt: skip
        typer.echo(paint(done, Style.OK, colour))


# ---------------------------------------------------------------------------------------------
# mynacard simulate
# ---------------------------------------------------------------------------------------------


def _counter_cell(entry: TimelineEntry, pin: PinName, colour: bool, lang: str) -> str:
    counter = entry.counter(pin)
    if counter is None:
        return "-"
    text = f"{counter.remaining}/{counter.max_tries}"
    if counter.locked:
        return paint(text + pick(lang, " locked", " ロック"), Style.ERROR, colour)
    if counter.remaining < counter.max_tries:
        return paint(text, Style.WARN, colour)
    return text


def _print_timeline(timeline: Timeline, lang: Lang, explain: bool) -> None:
    colour = colour_enabled(sys.stdout)
    scenario = timeline.scenario
    typer.echo(paint(scenario.title(lang), Style.BOLD, colour))
    if scenario.source:
        typer.echo(pick(lang, f"Source: {scenario.source}", f"出典: {scenario.source}"))
    typer.echo("")
    pins = [p for p in USER_PINS if any(e.counter(p) for e in timeline.entries)]
    rows = []
    for entry in timeline.entries:
        e = entry.event
        action = _ACTION_NAMES[e.action.value](lang)
        if e.via:
            action += f"\n({_ACTION_NAMES[e.via.value](lang)})"
        outcome = _wrap(entry.outcome(lang), 44, lang)
        if entry.failures:
            outcome += "\n" + paint("✗ " + "; ".join(entry.failures), Style.ERROR, colour)
        rows.append([
            str(e.index), f"{e.at:%m-%d %H:%M}", _wrap(e.place, 22, lang), action,
            SHORT_PIN[e.pin](lang) if e.pin in SHORT_PIN else (e.pin.value if e.pin else ""),
            f"{entry.sw:04X}" if entry.sw is not None else "",
            outcome,
            *[_counter_cell(entry, p, colour, lang) for p in pins],
        ])  # fmt: skip
    headers = [
        "#", pick(lang, "When", "日時"), pick(lang, "Place", "場所"), pick(lang, "Action", "操作"),
        pick(lang, "PIN", "暗証番号"), "SW", pick(lang, "Outcome", "結果"),
        *[SHORT_PIN[p](lang) for p in pins],
    ]  # fmt: skip
    typer.echo(table(headers, rows, colour=colour))
    for entry in timeline.entries:
        if len(entry.refusals) > 1 or (entry.refusals and explain):
            typer.echo(f"\n#{entry.event.index} " + pick(lang, "refused because:", "不可の理由:"))
            for refusal in entry.refusals:
                typer.echo(f"  - {refusal.text(lang)} [{refusal.source}]")
        if explain and entry.exchanges:
            typer.echo(f"\n#{entry.event.index} APDUs:")
            for exchange in entry.exchanges:
                typer.echo(explain_exchange(exchange, lang))
                typer.echo("")
    typer.echo("")
    if timeline.ok:
        typer.echo(paint(pick(lang, "Every expectation of the scenario is met.",
                              "シナリオの期待どおりの結果です。"), Style.OK, colour))  # fmt: skip
    else:
        typer.echo(
            paint(pick(lang, "Expectations not met:", "期待と異なる結果:"), Style.ERROR, colour)
        )
        for failure in timeline.failures:
            typer.echo(f"  - {failure}")


def _known_pins(raw: str) -> dict[PinName, str]:
    """``MYNACARD_PINS_JSON``: a JSON object of PIN name to value. Errors never quote a value."""
    import json

    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _fail(f"MYNACARD_PINS_JSON is not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise _fail(
            'MYNACARD_PINS_JSON must be a JSON object of PIN name to string, e.g. {"signing": "..."}'
        )
    try:
        return {resets.parse_pin(key): value for key, value in data.items()}
    except ValueError as exc:
        raise _fail(f"MYNACARD_PINS_JSON: {exc}") from None


@app.command()
def simulate(
    file: Annotated[Path, typer.Argument(help="A scenario file (.toml or .json), see examples/.")],
    card_path: Annotated[
        Path | None,
        typer.Option(
            "--card",
            help="Replay on this card file (it is changed!) instead of a new "
            'in-memory card; "correct" then needs the values in MYNACARD_PINS_JSON.',
        ),
    ] = None,
    lang: LangOption = None,
    as_json: JsonOption = False,
    explain: ExplainOption = False,
) -> None:
    """Replay a scenario of PIN events over days and services; print every counter after each."""
    from card_emulator.teaching.scenario import ScenarioError, load_scenario, run_scenario

    language = _lang(lang)
    try:
        scenario = load_scenario(file)
    except ScenarioError as exc:
        raise _fail(str(exc)) from None
    try:
        if card_path is None:
            timeline = run_scenario(scenario)
        else:
            known = _known_pins(os.environ.get("MYNACARD_PINS_JSON", "{}"))
            with _open(card_path, False, language) as card:
                timeline = run_scenario(scenario, card, known_pins=known)
    except ScenarioError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(to_json(timeline.to_dict()))
    else:
        _print_timeline(timeline, language, explain)
    if not timeline.ok:
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------
# mynacard diagram
# ---------------------------------------------------------------------------------------------


@app.command()
def diagram(
    out: Annotated[Path, typer.Option(help="Directory to write into.")] = Path("docs"),
    png: Annotated[bool, typer.Option(help="Render the PNG with Graphviz dot.")] = True,
    check: Annotated[
        bool,
        typer.Option("--check", help="Only check that the committed DOT/Markdown are current."),
    ] = False,
    show: Annotated[
        str | None, typer.Option(help="Print instead of writing: dot or markdown.")
    ] = None,
    lang: LangOption = None,
) -> None:
    """Write docs/pin-lifecycle.{dot,png} and docs/access-rules.md from card_emulator.rules."""
    from card_emulator.teaching.diagram import (
        access_rules_markdown,
        lifecycle_dot,
        stale_docs,
        write_docs,
    )

    if show is not None:
        if show == "dot":
            typer.echo(lifecycle_dot(_lang(lang)), nl=False)
        elif show == "markdown":
            typer.echo(access_rules_markdown(), nl=False)
        else:
            raise typer.BadParameter("dot or markdown", param_hint="--show")
        return
    if check:
        if not out.is_dir():  # --check never creates it (a wrong working directory is likely)
            raise _fail(
                f"no docs directory at {out.absolute()}; run from the repository root or give --out"
            )
        stale = stale_docs(out)
        if stale:
            raise _fail(f"out of date: {', '.join(stale)}; run `mynacard diagram`", 1)
        typer.echo("docs are current")
        return
    try:
        written = write_docs(out, png=png)
    except EmulatorError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"cannot write to {out}: {exc.strerror or exc}") from None
    for path in written:
        typer.echo(f"wrote {path}")
