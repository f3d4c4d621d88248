"""The test kit: everything a team needs to test its own card-reading software against the card.

* ``card_emulator.testing.plugin`` — the ``mynacard`` pytest plugin (fixtures ``mynacard``,
  ``mynacard_factory``, ``mynacard_slot``, ``mynacard_reader``, ``mynacard_trace``; the marker
  ``@pytest.mark.mynacard``), registered through the ``pytest11`` entry point.
* ``card_emulator.testing.personas`` — named holders that break parsers (``personas.LONG_ADDRESS``).
* ``card_emulator.testing.strategies`` — hypothesis strategies (APDUs, PIN values, holders, cards).
* Here: fresh cards (:func:`new_card`, :class:`CardFactory`), a minimal client (:func:`send`,
  :func:`verify`, :func:`read_ef`, ...), traces (:class:`Recorder`, :func:`replay`,
  :func:`assert_replays`, :func:`diff_traces`), faults (:class:`Slot` and the fault classes).

Importing this package needs neither pytest nor hypothesis; the plugin and the strategies do.
"""

from __future__ import annotations

from card_emulator.faults import (
    Corrupt,
    Fault,
    FaultPlan,
    FaultPlanError,
    ForceStatus,
    Latency,
    RemoveCard,
    Tear,
    Truncate,
)
from card_emulator.recorder import Recorder, format_entry
from card_emulator.slot import CardRemovedError, Slot
from card_emulator.testing.client import (
    query,
    read_ef,
    select_app,
    select_app_apdu,
    select_ef,
    select_ef_apdu,
    send,
    sign,
    sign_apdu,
    sw_of,
    verify,
    verify_apdu,
    wrong_value,
)
from card_emulator.testing.factory import CardFactory, CardSpec, apply_tries, new_card
from card_emulator.testing.replay import (
    Divergence,
    ReplayResult,
    assert_replays,
    card_for,
    diff_traces,
    replay,
)
from card_emulator.trace import Trace, TraceEntry, TraceFormatError, read_trace

__all__ = [
    "CardFactory",
    "CardRemovedError",
    "CardSpec",
    "Corrupt",
    "Divergence",
    "Fault",
    "FaultPlan",
    "FaultPlanError",
    "ForceStatus",
    "Latency",
    "Recorder",
    "RemoveCard",
    "ReplayResult",
    "Slot",
    "Tear",
    "Trace",
    "TraceEntry",
    "TraceFormatError",
    "Truncate",
    "apply_tries",
    "assert_replays",
    "card_for",
    "diff_traces",
    "format_entry",
    "new_card",
    "query",
    "read_ef",
    "read_trace",
    "replay",
    "select_app",
    "select_app_apdu",
    "select_ef",
    "select_ef_apdu",
    "send",
    "sign",
    "sign_apdu",
    "sw_of",
    "verify",
    "verify_apdu",
    "wrong_value",
]
