"""``mynacard pin status|verify|change|reset``: the card's PINs, explained (values never shown).

Every operation is real APDUs to the card (``teaching.pin_ops``); resets go through the model of
the window and kiosk procedures (``teaching.reset``), each refusal with its seed page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from card_emulator.cli.app import app
from card_emulator.cli.teach_util import (
    CURRENT,
    NEW,
    ExplainOption,
    JsonOption,
    LangOption,
    NewValueEnvOption,
    PathArgument,
    PinOption,
    RawOption,
    ValueEnvOption,
    echo,
    h,
    lang_of,
    open_card,
    pin_of,
    print_explained,
    read_pin,
    when,
)
from card_emulator.rules import PIN_SPECS, USER_PINS, PinName
from card_emulator.teaching.i18n import Lang, count, pick

# The teaching tables and rich are imported where they are used (start-up: cli/app.py).
if TYPE_CHECKING:
    from rich.text import Text as RichText

    from card_emulator.card import Card
    from card_emulator.teaching import reset as resets
    from card_emulator.teaching.explain import ExchangeLike

pin_app = typer.Typer(
    help=h("Check, change and reset the card's PINs, explained (values are never shown).",
           "カードの暗証番号の確認・変更・再設定を説明付きで(値は表示しません)。"),
    no_args_is_help=True,
)  # fmt: skip
app.add_typer(pin_app, name="pin")


def answer_dict(answer: resets.PinAnswer, max_tries: int | None = None) -> dict[str, Any]:
    """One PIN operation's answer for ``--json``; ``pin`` is the canonical PinName value.

    ``ok``: for VERIFY, CHANGE and resets the card answered 9000; for a tries query (``pin
    status``, step ``query``) the PIN is on the card and usable (not locked), and ``state``
    says more: ``ok`` (every try left), ``wrong_entries``, ``locked``, ``absent`` or ``unknown``.
    ``max_tries``: the card's own maximum where it may differ from the rules' (``max_tries=`` of
    the reference numbers A/B and the birth-date key, card-interface.md §5.6: not public).
    """
    tries = answer.tries
    result: dict[str, Any] = {
        "pin": answer.pin.value,
        "sw": f"{answer.sw:04X}",
        "step": answer.step,
        "ok": answer.ok,
        "tries_left": tries,
        "max_tries": PIN_SPECS[answer.pin].max_tries if max_tries is None else max_tries,
        "locked": tries == 0,
    }
    if answer.step in ("query", "select_app", "select_ef"):
        state = query_state(answer)
        result["ok"] = state in ("ok", "wrong_entries")
        result["state"] = state
    return result


def query_state(answer: resets.PinAnswer) -> str:
    """A tries query's answer in one word: ok, wrong_entries, locked, absent or unknown."""
    if answer.step != "query":
        return "absent"  # its application or EF is not on this card
    left = answer.tries
    if left is None:
        return "unknown"  # neither 63Cx nor 6984: the status word says why
    if left == 0:
        return "locked"
    return "ok" if left == PIN_SPECS[answer.pin].max_tries else "wrong_entries"


def answer_lines(answer: resets.PinAnswer, lang: str) -> list[str | RichText]:
    """What the card's answer means for the holder, in ``lang``."""
    from card_emulator.teaching.explain import next_wrong_entry
    from card_emulator.teaching.render import Style, styled
    from card_emulator.teaching.status_words import explain_status_word

    pin, sw = answer.pin, answer.sw
    spec = PIN_SPECS[pin]
    if answer.step in ("select_app", "select_ef"):
        return [
            styled(pick(lang, f"This card has no {spec.name_en}.",
                        f"このカードには{spec.name_ja}がありません。"), Style.WARN),
            explain_status_word(sw, lang),
        ]  # fmt: skip
    tries = answer.tries
    if answer.ok:
        head = styled(pick(lang, f"OK ({sw:04X})", f"成功({sw:04X})"), Style.OK)
        if answer.step == "change":
            return [
                head,
                pick(
                    lang,
                    f"The {spec.name_en} has its new value; {tries}/{spec.max_tries} tries.",
                    f"{spec.name_ja}を変更しました。残り{tries}/{spec.max_tries}回。",
                ),
            ]
        return [head, pick(lang, f"Correct: the counter is back to {tries}/{spec.max_tries}.",
                           f"一致しました。残り回数は{tries}/{spec.max_tries}回に戻りました。")]  # fmt: skip
    left = answer.tries_left
    if answer.step == "verify" and left is not None:
        message = (
            pick(lang, f"{sw:04X} wrong {spec.name_en}: {left} of {spec.max_tries} tries left.",
                 f"{sw:04X} {spec.name_ja}が違います: 残り{left}回(最大{spec.max_tries}回)。")
            if left
            else pick(lang, f"{sw:04X} wrong {spec.name_en}: no tries left, it is now locked.",
                      f"{sw:04X} {spec.name_ja}が違います: 残り回数がなくなり、ロックされました。")
        )  # fmt: skip
    else:
        message = explain_status_word(sw, lang)
    lines: list[str | RichText] = [styled(message, Style.ERROR)]
    if answer.step == "verify" and tries is not None:
        if left is not None:
            lines.append(pick(lang, "The wrong entry counts on the card.",
                              "誤入力としてカードに数えられました。"))  # fmt: skip
        lines.append(next_wrong_entry(pin, tries, lang))
    return lines


@pin_app.command(
    "status",
    help=h("Tries left of each PIN, asked with VERIFY without data (spends nothing).",
           "各暗証番号の残り回数。データなしのVERIFYで問い合わせます(回数は減りません)。"),
)  # fmt: skip
def pin_status(
    path: PathArgument = None,
    lang: LangOption = None,
    as_json: JsonOption = False,
    explain: ExplainOption = False,
    every: Annotated[
        bool,
        typer.Option(
            "--all",
            help=h(
                "Also the card's other references: 照合番号A/B of the text input helper AP, the "
                "card-surface AP's birth-date key and 照合番号A/B, the common AP's PIN.",
                "カードのほかの照合対象も: 券面事項入力補助APの照合番号A/B、券面事項確認APの生年月日と"
                "照合番号A/B、共通カードAPの暗証番号。",
            ),
        ),
    ] = False,
) -> None:
    """Tries left of each PIN, asked with VERIFY without data (spends nothing); ``--all`` adds
    the references a holder never types (card-interface.md §5.6, §6.1, §7.2)."""
    from card_emulator.teaching import reset as resets
    from card_emulator.teaching.explain import pin_name
    from card_emulator.teaching.render import Style, dots, styled, table, to_json
    from card_emulator.teaching.status_words import explain_status_word

    language = lang_of(lang)
    trace: list[ExchangeLike] = []
    pins = list(PinName) if every else list(USER_PINS)
    with open_card(path, trace) as card:
        answers = [resets.query_pin(card, pin) for pin in pins]
        # Only the references whose limit a card may set (max_tries=) are asked for it: the four
        # PINs' limits are the rules' (and a served card would pay a round trip for each).
        others = set(card.issuer.pins()).difference(USER_PINS) if every else set()
        maxima = {p: card.issuer.pin_status(p).max_tries for p in others}
    if as_json:
        typer.echo(to_json({"pins": [answer_dict(a, maxima.get(a.pin)) for a in answers]}))
        return
    if explain:
        print_explained(trace, language)
    rows: list[list[str | RichText]] = []
    for answer in answers:
        spec = PIN_SPECS[answer.pin]
        most = maxima.get(answer.pin, spec.max_tries)
        left = answer.tries if answer.step == "query" else None
        if answer.step != "query":
            tries, state = "-", styled(pick(language, "not on this card", "このカードにはなし"))
        elif left is None:
            tries, state = "?", styled(explain_status_word(answer.sw, language))
        else:
            tries = f"{dots(left, most)} {left}/{most}"
            if left == 0 and answer.pin not in USER_PINS:
                state = styled(
                    pick(language, "LOCKED: no public reset procedure (here: an issuer reset)",
                         "ロック中: 公開された再設定手続きなし(ここでは発行者による再設定)"),
                    Style.ERROR,
                )  # fmt: skip
            elif left == 0:
                kiosk = answer.pin in resets.KIOSK_PINS[resets.kiosk_rule_on(when(None, "").date())]
                state = styled(
                    pick(language, "LOCKED: a reset is needed at the window"
                         + (" or a kiosk" if kiosk else ""),
                         "ロック中: 窓口" + ("またはキオスク端末" if kiosk else "") + "で再設定が必要"),
                    Style.ERROR,
                )  # fmt: skip
            elif left < most:
                wrong = most - left
                state = styled(pick(language, f"{count(language, wrong, 'wrong entry', 'wrong entries', '')} so far",
                                    f"{wrong}回誤入力"), Style.WARN)  # fmt: skip
            else:
                state = styled(pick(language, "ok", "正常"))
        rows.append([pin_name(answer.pin, language), tries, state])
    headers = [pick(language, "PIN", "暗証番号"), pick(language, "Tries left", "残り回数"),
               pick(language, "State", "状態")]  # fmt: skip
    echo(table(headers, rows, no_wrap=(1,)))


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
    from card_emulator.teaching.render import to_json

    trace: list[ExchangeLike] = []
    with open_card(path, trace) as card:
        answer = operation(card)
    if as_json:
        typer.echo(to_json(answer_dict(answer)))
    else:
        if explain:
            print_explained(trace, language)
        echo(*answer_lines(answer, language))
    if not answer.ok:
        raise typer.Exit(1)


@pin_app.command(
    "verify",
    help=h("VERIFY a PIN: SELECT its application and EF, then VERIFY. A wrong value counts.",
           "暗証番号を照合: APとEFを選択してVERIFY。間違えると誤入力として数えられます。"),
)  # fmt: skip
def pin_verify(
    path: PathArgument = None,
    pin: PinOption = "user_auth",
    value_env: ValueEnvOption = "MYNACARD_PIN",
    raw: RawOption = False,
    lang: LangOption = None,
    as_json: JsonOption = False,
    explain: ExplainOption = False,
) -> None:
    """VERIFY a PIN: SELECT its application and EF, then VERIFY. A wrong value counts."""
    language, name = lang_of(lang), pin_of(pin)

    def operation(card: Card) -> resets.PinAnswer:
        from card_emulator.teaching import reset as resets

        value = read_pin(value_env, name, language, check=not raw)
        return resets.verify_pin(card, name, value)

    _run_pin_operation(operation, path, language, as_json, explain)


@pin_app.command(
    "change",
    help=h("Change a PIN: VERIFY the current one (a wrong one counts), then CHANGE to the new one.",
           "暗証番号を変更: 現在の暗証番号を照合し(間違えると数えられます)、新しい値に変更。"),
)  # fmt: skip
def pin_change(
    path: PathArgument = None,
    pin: PinOption = "user_auth",
    value_env: ValueEnvOption = "MYNACARD_PIN",
    new_value_env: NewValueEnvOption = "MYNACARD_NEW_PIN",
    raw: RawOption = False,
    lang: LangOption = None,
    as_json: JsonOption = False,
    explain: ExplainOption = False,
) -> None:
    """Change a PIN: VERIFY the current one (a wrong one counts), then CHANGE to the new one."""
    language, name = lang_of(lang), pin_of(pin)

    def operation(card: Card) -> resets.PinAnswer:
        from card_emulator.teaching import reset as resets

        current = read_pin(value_env, name, language, CURRENT, check=not raw)
        new = read_pin(new_value_env, name, language, NEW, check=not raw, confirm=True)
        return resets.change_pin(card, name, current, new)

    _run_pin_operation(operation, path, language, as_json, explain)
