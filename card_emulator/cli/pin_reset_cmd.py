"""``mynacard pin reset``: a forgotten or locked PIN reset at the window or a kiosk, as a model.

The plan (who brings what, how many visits) and every refusal come from ``teaching.reset`` with the
seed page each rule comes from. The kiosk checks the other JPKI PIN on the card: a wrong one counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from card_emulator.cli.pin_cmds import pin_app
from card_emulator.cli.teach_util import (
    NEW,
    ExplainOption,
    JsonOption,
    LangOption,
    NewValueEnvOption,
    PathArgument,
    PinOption,
    choice_of,
    echo,
    h,
    lang_of,
    open_card,
    pin_of,
    print_explained,
    read_pin,
    secret,
    when,
)
from card_emulator.rules import PIN_SPECS
from card_emulator.teaching.i18n import Lang, count, pick

# The reset model and rich are imported where they are used (start-up: cli/app.py).
if TYPE_CHECKING:
    from card_emulator.teaching import reset as resets


@pin_app.command(
    "reset",
    help=h("Reset (再設定・初期化) a forgotten or locked PIN at the window or a kiosk, as a model. "
           "Refusals say why, with their seed page. The kiosk checks the other JPKI PIN on the "
           "card: a wrong one counts there.",
           "忘れた・ロックされた暗証番号を窓口またはキオスク端末で再設定(モデル)。受け付けられない"
           "理由を出典の資料とともに示します。キオスク端末はもう一方の暗証番号をカードで照合し、"
           "間違えると誤入力として数えられます。"),
)  # fmt: skip
def pin_reset(
    path: PathArgument = None,
    pin: PinOption = "signing",
    via: Annotated[str, typer.Option(help=h("window (市区町村窓口) or kiosk (コンビニ).",
                                            "window(市区町村窓口)または kiosk(コンビニ)。"))] = "window",
    applicant: Annotated[str, typer.Option(help=h(
        "holder, legal-representative or voluntary-proxy (window).",
        "holder(本人)、legal-representative(法定代理人)または voluntary-proxy(任意代理人、窓口のみ)。"))] = "holder",
    on: Annotated[str | None, typer.Option("--date", help=h(
        "When: YYYY-MM-DD (noon) or YYYY-MM-DDTHH:MM (default now).",
        "日時: YYYY-MM-DD(正午)または YYYY-MM-DDTHH:MM(既定: 現在)。"))] = None,
    reserved_at: Annotated[str | None, typer.Option(help=h(
        "Kiosk: when step 1 (app reservation) was done; default: just now.",
        "キオスク端末: ステップ1(アプリでの予約)の日時。既定: 直前。"))] = None,
    new_value_env: NewValueEnvOption = "MYNACARD_NEW_PIN",
    other_value_env: Annotated[str, typer.Option(help=h(
        "Kiosk: read the other JPKI PIN from this variable if set.",
        "キオスク端末: もう一方の暗証番号をこの環境変数から読む。"))] = "MYNACARD_OTHER_PIN",
    other_unknown: Annotated[bool, typer.Option("--other-unknown", help=h(
        "Kiosk: the other JPKI PIN is unknown too.",
        "キオスク端末: もう一方の暗証番号も分からない。"))] = False,
    mail_forwarded: Annotated[bool, typer.Option(help=h(
        "Voluntary proxy: the holder's mail is forwarded elsewhere.",
        "任意代理人: 本人の郵便が転送されている。"))] = False,
    reply_incomplete: Annotated[bool, typer.Option(help=h(
        "Voluntary proxy: the inquiry reply is incomplete.",
        "任意代理人: 回答書の記入に不足がある。"))] = False,
    reply_not_hidden: Annotated[bool, typer.Option(help=h(
        "Voluntary proxy: the PIN on the reply is not hidden.",
        "任意代理人: 回答書の暗証番号が目隠しされていない。"))] = False,
    plan_only: Annotated[bool, typer.Option("--plan-only", help=h(
        "Show the plan and refusals; leave the card.",
        "手順と受け付けられない理由だけを表示(カードは変えない)。"))] = False,
    lang: LangOption = None,
    as_json: JsonOption = False,
    explain: ExplainOption = False,
) -> None:  # fmt: skip
    """Reset a forgotten or locked PIN at the window or a kiosk, as a model."""
    from card_emulator.teaching import reset as resets

    language = lang_of(lang)
    name = pin_of(pin)
    channel = choice_of(resets.Channel, via, "--via")
    who = choice_of(resets.Applicant, applicant, "--applicant")
    at = when(on, "--date")
    reserved = when(reserved_at, "--reserved-at") if reserved_at else None
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
        print_reset(outcome, language, as_json, planned_only=not early)
        raise typer.Exit(1 if early else 0)
    trace: list[Any] = []
    # The card first: a missing or bad card file stops the command before any PIN is asked for.
    with open_card(path, trace) as card:
        other_value: str | None = None
        if channel == resets.Channel.KIOSK:
            other = resets.KIOSK_PINS[resets.kiosk_rule_on(at.date())][name]
            other_value = secret(
                other_value_env,
                pick(language, f"{PIN_SPECS[other].name_en} (the kiosk checks it on the card)",
                     f"{PIN_SPECS[other].name_ja}(キオスク端末がカードで照合)"),
                language,
            ) or None  # fmt: skip
        # No format check here: the reset itself refuses a bad new value, with its reason.
        new = read_pin(new_value_env, name, language, NEW, check=False, confirm=True)
        if channel == resets.Channel.KIOSK and reserved is None:
            step1 = resets.reserve_kiosk(card, name, other_value, at)
            if not step1.done:
                print_reset(step1, language, as_json)
                raise typer.Exit(1)
        outcome = resets.reset_pin(card, request, new, other_value=other_value)
        status = card.issuer.pin_status(name) if outcome.done else None
    if explain and not as_json:
        print_explained(trace, language)
    print_reset(outcome, language, as_json, tries=status.remaining if status else None)
    if not outcome.done:
        raise typer.Exit(1)


def outcome_dict(outcome: resets.ResetOutcome, tries: int | None) -> dict[str, Any]:
    """A reset's outcome for ``--json``: refusals and steps with their sources."""
    plan = outcome.plan
    return {
        "pin": outcome.request.pin.value,
        "channel": outcome.request.channel.value,
        "applicant": outcome.request.applicant.value,
        "at": outcome.request.at.isoformat(),
        "kiosk_rule": outcome.rule.value,
        "done": outcome.done,
        "refusals": [
            {"code": r.code.value, "source": r.source.as_dict(), **r.text.as_dict()}
            for r in outcome.refusals
        ],
        "kiosk_verify_sw": f"{outcome.verify_sw:04X}" if outcome.verify_sw is not None else None,
        "tries_left": tries,
        "plan": None if plan is None else plan.as_json(),
    }  # fmt: skip


def print_reset(
    outcome: resets.ResetOutcome,
    lang: Lang,
    as_json: bool,
    *,
    planned_only: bool = False,
    tries: int | None = None,
) -> None:
    """The plan, the refusals or the result of a reset, in ``lang``, each step with its source."""
    from card_emulator.teaching import reset as resets
    from card_emulator.teaching.render import Style, bullets, styled, table, to_json

    if as_json:
        typer.echo(to_json(outcome_dict(outcome, tries)))
        return
    request = outcome.request
    spec = PIN_SPECS[request.pin]
    lines: list[Any] = [styled(pick(
        lang,
        f"Reset of the {spec.name_en} — {resets.CHANNEL_NAMES[request.channel].en}, "
        f"{resets.APPLICANT_NAMES[request.applicant].en}, {request.at:%Y-%m-%d %H:%M} "
        f"({outcome.rule.value} rule)",
        f"{spec.name_ja}の再設定 — {resets.CHANNEL_NAMES[request.channel].ja}、"
        f"{resets.APPLICANT_NAMES[request.applicant].ja}、{request.at:%Y-%m-%d %H:%M}"
        f"({outcome.rule.value}年のルール)",
    ), Style.BOLD)]  # fmt: skip
    if outcome.refusals:
        lines.append(styled(pick(lang, "Refused:", "受け付けられません:"), Style.ERROR))
        lines.append(
            bullets([f"{r.text(lang)} [{r.source.label(lang)}]" for r in outcome.refusals])
        )
        echo(*lines)
        return
    plan = outcome.plan
    if plan is not None:
        lines.append(pick(lang, f"Plan: {count(lang, plan.visits, 'visit', 'visits', '')}",
                          f"手順: 来庁・来店{plan.visits}回"))  # fmt: skip
        rows = [
            [pick(lang, f"visit {step.visit}", f"{step.visit}回目") if step.visit
             else pick(lang, "meanwhile", "その間"),
             f"{step.where(lang)}: {step.what(lang)} [{step.source.label(lang)}]",
             "\n".join(f"- {item(lang)}" for item in step.brings)]
            for step in plan.steps
        ]  # fmt: skip
        lines.append(table(["", pick(lang, "Step", "手順"), pick(lang, "Bring", "持ち物")], rows,
                           no_wrap=(0,)))  # fmt: skip
        lines.append(bullets([note(lang) for note in plan.notes]))
    if not planned_only and outcome.done:
        done = pick(
            lang,
            f"Done: the {spec.name_en} has its new value and {tries}/{spec.max_tries} tries.",
            f"完了: {spec.name_ja}は新しい値になり、残り{tries}/{spec.max_tries}回です。",
        )
        if request.channel == resets.Channel.WINDOW and plan is not None and plan.visits > 1:
            done += pick(lang, " (modelled: the card is reset as at the last visit)",
                         "(モデル: 最後の来庁時点で再設定)")  # fmt: skip
        lines.append(styled(done, Style.OK))
    echo(*lines)
