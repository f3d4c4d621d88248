"""What the learning page shows beside the lesson: where PINs change, the seed pages, the classic
scenarios as steps (``mynacard learn``'s ``/api/...`` routes, ``card_emulator.web.server``).

Results are JSON-ready, texts ``{"en": …, "ja": …}``; every fact carries its seed page (seeds 000–004,
``teaching.sources``). :class:`LessonError` is the one error of the page's library (here and in
``teaching.lesson``): a request it cannot carry out, in one line.
"""

from __future__ import annotations

from typing import Any

from card_emulator.teaching.changes import CHANGE_PLACES, CHANGE_RULES
from card_emulator.teaching.pin_ops import CLI_PIN_NAME
from card_emulator.teaching.sources import SEEDS

__all__ = ["LessonError", "change_places", "scenario_list", "scenario_steps", "seed_pages"]


class LessonError(ValueError):
    """A request the lesson cannot carry out (unknown PIN, service, scenario): one line."""


def change_places() -> dict[str, Any]:
    """Where each PIN can be changed (seed 004 and others), for the page."""
    return {
        "places": [
            {"key": p.key, "name": p.name.as_dict(), "pins": [CLI_PIN_NAME[x] for x in p.pins],
             "needs": p.needs.as_dict(), "source": p.source.as_dict()}
            for p in CHANGE_PLACES
        ],
        "rules": [fact.as_dict() for fact in CHANGE_RULES],
    }  # fmt: skip


def seed_pages() -> list[dict[str, Any]]:
    """The seed pages every fact points to: number, file, author, date."""
    return [{"number": s.number, "file": s.file, "author": s.author.as_dict(),
             "updated": s.updated} for s in SEEDS.values()]  # fmt: skip


def scenario_list() -> list[dict[str, Any]]:
    """The packaged classic scenarios: name, title, source."""
    from card_emulator.teaching.scenario import example_scenarios, load_scenario, source_text

    out = []
    for path in example_scenarios():
        s = load_scenario(path)
        out.append({"name": s.name, "title": s.title.as_dict(),
                    "source": source_text(s.source).as_dict()})  # fmt: skip
    return out


def scenario_steps(name: str) -> dict[str, Any]:
    """One classic scenario replayed on a fresh practice card, as steps for the page."""
    from card_emulator.teaching.scenario import (
        ScenarioError,
        find_scenario,
        load_scenario,
        place_text,
        source_text,
    )
    from card_emulator.teaching.timeline import run_scenario

    try:
        scenario = load_scenario(find_scenario(name))
    except ScenarioError as exc:
        raise LessonError(str(exc)) from None
    timeline = run_scenario(scenario)
    steps = []
    for entry in timeline.entries:
        e = entry.event
        steps.append({
            "n": e.index,
            "at": e.at.isoformat(timespec="minutes"),
            "place": place_text(e.place).as_dict(),
            "action": e.action.value,
            "pin": CLI_PIN_NAME.get(e.pin) if e.pin else None,
            "sw": f"{entry.sw:04X}" if entry.sw is not None else None,
            "outcome": entry.outcome.as_dict(),
            "refusals": [{"text": r.text.as_dict(), "source": r.source.as_dict()}
                         for r in entry.refusals],
            "counters": [{"pin": CLI_PIN_NAME[c.pin], "remaining": c.remaining,
                          "max": c.max_tries, "locked": c.locked} for c in entry.counters],
        })  # fmt: skip
    return {"name": scenario.name, "title": scenario.title.as_dict(),
            "source": source_text(scenario.source).as_dict(), "steps": steps, "ok": timeline.ok}  # fmt: skip
