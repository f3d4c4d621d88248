"""Every classic scenario of pin-rules.md §2–§4 replays on a real card with the outcome the seeds state.

Each file in card_emulator/teaching/scenarios (package data) carries its own expectations (status words, refusals, visits, final
counters); the tests here also restate the seeds' key sentences against the timelines.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from card_emulator.rules import PinName
from card_emulator.teaching.reset import RefusalCode
from card_emulator.teaching.scenario import (
    PACKAGED,
    Action,
    ScenarioError,
    example_scenarios,
    find_scenario,
    load_scenario,
    parse_scenario,
)
from card_emulator.teaching.timeline import Timeline, TimelineEntry, run_scenario

EXAMPLES = PACKAGED  # shipped as package data: card_emulator/teaching/scenarios
FILES = example_scenarios()


@cache
def timeline(name: str) -> Timeline:
    return run_scenario(load_scenario(EXAMPLES / f"{name}.toml"))


def left(entry: TimelineEntry, pin: PinName) -> int:
    counter = entry.counter(pin)
    assert counter is not None
    return counter.remaining


def sws(t: Timeline) -> list[str | None]:
    return [f"{e.sw:04X}" if e.sw is not None else None for e in t.entries]


def test_the_classic_scenarios_are_all_there() -> None:
    names = {p.stem for p in FILES}
    assert len(names) >= 14
    for prefix in [f"{n:02d}_" for n in range(1, 15)]:
        assert any(name.startswith(prefix) for name in names), prefix


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_example_scenario_meets_its_expectations(path: Path) -> None:
    result = timeline(path.stem)
    assert result.ok, "\n".join(result.failures)
    assert result.scenario.source, "every scenario names its source"
    for entry in result.entries:
        assert {c.pin for c in entry.counters} >= {PinName.USER_AUTH, PinName.RESIDENT_REGISTRY}


def test_s2_wrong_entries_accumulate_across_services_and_days() -> None:
    # seed 004: マイナポータル, the next day a convenience store, a week later a clinic → locked.
    t = timeline("01_three_wrong_across_services")
    places = [e.event.place for e in t.entries[:3]]
    days = [(e.event.at.date() - t.scenario.start.date()).days for e in t.entries[:3]]
    assert places[0] == "マイナポータル" and days == [0, 1, 8]
    assert [left(e, PinName.USER_AUTH) for e in t.entries[:3]] == [2, 1, 0]
    assert t.entries[3].sw == 0x6984  # the correct PIN after the lock
    last = t.entries[-1]
    assert [left(last, p) for p in (PinName.SIGNING, PinName.RESIDENT_REGISTRY)] == [5, 3]


def test_s2_one_correct_entry_resets_the_count() -> None:
    t = timeline("02_two_wrong_then_correct")
    assert sws(t) == ["63C2", "63C1", None, "63C1", "9000", "63C2"]


def test_s2_locked_stays_locked_even_with_the_correct_pin_until_a_reset() -> None:
    t = timeline("03_locked_then_correct")
    assert sws(t)[:9] == ["63C4", "63C3", "63C2", "63C1", "63C0", "6984", None, "6984", "63C0"]
    reset = t.entries[9]
    assert reset.event.action == Action.RESET and reset.done
    assert t.entries[10].sw == 0x9000


def test_s3_change_needs_the_current_pin_and_a_wrong_one_counts() -> None:
    t = timeline("04_change_needs_current")
    assert sws(t)[:4] == ["6982", "63C2", "6A80", "9000"]
    assert left(t.entries[0], PinName.USER_AUTH) == 3
    assert left(t.entries[1], PinName.USER_AUTH) == 2
    assert t.entries[-1].sw == 0x6984  # change cannot unlock


def test_s4_kiosk_2024_with_and_without_the_user_auth_pin() -> None:
    ok = timeline("05_kiosk_2024_signing_with_user_auth")
    assert [e.done for e in ok.entries if e.event.action in (Action.RESERVE, Action.RESET)] == [
        True,
        True,
    ]
    without = timeline("06_kiosk_2024_without_user_auth")
    refused = [e for e in without.entries if e.done is False]
    assert {r.code for e in refused for r in e.refusals} >= {
        RefusalCode.BOTH_JPKI_UNKNOWN,
        RefusalCode.OTHER_PIN_WRONG,
        RefusalCode.KIOSK_2024_SIGNING_ONLY,
    }
    # The wrong user-authentication PIN typed for the kiosk counted on the card.
    assert left(without.entries[-1], PinName.USER_AUTH) == 2


def test_s4_reservation_hours_four_digits_and_both_unknown() -> None:
    expired = timeline("07_kiosk_reservation_expired").entries[1]
    assert {r.code for r in expired.refusals} == {RefusalCode.RESERVATION_EXPIRED}
    closed = timeline("08_kiosk_outside_hours")
    assert [e.done for e in closed.entries] == [True, False, False, True]
    four = timeline("12_kiosk_four_digit")
    assert [e.done for e in four.entries] == [False, False, False, True]
    both = timeline("09_both_jpki_unknown_window_only")
    assert both.entries[3].refusals[0].code == RefusalCode.BOTH_JPKI_UNKNOWN
    assert [e.done for e in both.entries[-2:]] == [True, True]  # the window


def test_s5_voluntary_proxy_two_visits_and_the_inquiry() -> None:
    t = timeline("11_voluntary_proxy")
    assert [e.visits for e in t.entries[:5]] == [2, 2, 2, 1, 1]
    assert t.entries[2].done


def test_expired_certificate_is_not_a_pin_reset() -> None:
    t = timeline("13_expired_certificate")
    assert [e.done for e in t.entries] == [False, False, True]
    assert all(r.code == RefusalCode.CERTIFICATE_EXPIRED for e in t.entries[:2] for r in e.refusals)


def test_json_output_has_every_counter_and_no_pin_value() -> None:
    t = timeline("14_shared_value_separate_counters")
    data = t.to_dict()
    text = json.dumps(data, ensure_ascii=False)
    assert "4826" not in text  # the literal TEST value the scenario sets
    assert data["expectations_met"] is True
    counters = data["entries"][-1]["counters"]
    assert counters["user_auth"] == {"remaining": 1, "max": 3, "locked": False}
    assert counters["resident_registry"]["remaining"] == 3


def test_a_scenario_in_json_runs_too(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({
        "title": "query",
        "start": "2025-06-01T09:00",
        "events": [{"action": "query", "pin": "text", "expect": "63C3"}],
        "expect": {"text": {"remaining": 3, "locked": False}},
    }))  # fmt: skip
    assert run_scenario(load_scenario(path)).ok


def test_failed_expectations_are_reported() -> None:
    scenario = parse_scenario({
        "start": "2025-06-01T09:00",
        "events": [{"action": "verify", "pin": "user-auth", "value": "wrong", "expect": "9000"}],
        "expect": {"user-auth": {"remaining": 3}},
    })  # fmt: skip
    result = run_scenario(scenario)
    assert not result.ok
    assert "event 1: expected 9000, the card answered 63C2" in result.failures
    assert "final: user-authentication PIN expected 3 tries left, has 2" in result.failures


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"events": [{"action": "query", "pin": "text"}]}, "needs a start"),
        ({"start": "2025-06-01", "events": []}, "at least one"),
        ({"start": "2025-06-01", "events": [{"action": "jump"}]}, "action must be one of"),
        ({"start": "2025-06-01", "events": [{"action": "verify"}]}, "needs a pin"),
        ({"start": "2025-06-01", "events": [{"action": "query", "pin": "x"}]}, "is not a PIN name"),
        ({"start": "2025-06-01", "events": [{"action": "query", "pin": "text", "colour": 1}]},
         "unknown key"),
        ({"start": "2025-06-01", "events": [{"action": "verify", "pin": "text", "value": 1234}]},
         "as a string"),
        ({"start": "2025-06-01", "events": [{"action": "reset", "pin": "text", "via": "post"}]},
         "window or kiosk"),
        ({"start": "soon", "events": [{"action": "query", "pin": "text"}]}, "not an ISO date"),
        ({"start": "2025-06-01", "card": {"variant": "gold"},
          "events": [{"action": "query", "pin": "text"}]}, "card.variant"),
    ],
)  # fmt: skip
def test_bad_scenarios_get_a_clear_message(data: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data)


def test_a_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("start = [")
    with pytest.raises(ScenarioError, match=r"bad\.toml"):
        load_scenario(bad)


def test_packaged_scenarios_are_found_by_number() -> None:
    assert find_scenario("01").name.startswith("01_")
    assert find_scenario("14").name.startswith("14_")
    with pytest.raises(ScenarioError, match="no scenario '99'"):
        find_scenario("99")
    with pytest.raises(ScenarioError, match="matches"):
        find_scenario("0")


@pytest.mark.parametrize(("remaining", "met"), [(9, True), (8, False)])
def test_final_expectations_on_the_other_references_are_checked(remaining: int, met: bool) -> None:
    """A scenario may VERIFY any reference (issue 9: teaching covers the new APs): its final
    counter is read and compared, not answered "this card has no verification code A"."""
    scenario = parse_scenario(
        {
            "title": "card-surface code A",
            "start": "2025-06-02T09:00",
            "card": {"seed": 3},
            "events": [{"action": "verify", "pin": "surface_code_a", "value": "wrong"}],
            "expect": {"surface_code_a": {"remaining": remaining}},
        }
    )
    result = run_scenario(scenario)
    assert result.entries[0].sw == 0x63C9
    assert left(result.entries[0], PinName.SURFACE_CODE_A) == 9
    assert result.ok is met, result.failures
    if not met:
        assert result.failures == (
            "final: verification code A (card-surface AP) expected 8 tries left, has 9",
        )
