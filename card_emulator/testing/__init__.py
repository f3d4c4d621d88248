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
The names below are imported on first use (PEP 562 ``__getattr__``, as ``card_emulator`` does):
loading the pytest plugin, a submodule of this package, does not load the card, its keys and
``cryptography`` (issue 10: each pytest process, each xdist worker, pays for what it imports).
``from card_emulator.testing import Slot`` works as before.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Public name -> the module that defines it.
_LAZY = {
    "CardFactory": "card_emulator.testing.factory",
    "CardRemovedError": "card_emulator.slot",
    "CardSpec": "card_emulator.testing.factory",
    "Corrupt": "card_emulator.faults",
    "Divergence": "card_emulator.testing.replay",
    "Fault": "card_emulator.faults",
    "FaultPlan": "card_emulator.faults",
    "FaultPlanError": "card_emulator.faults",
    "ForceStatus": "card_emulator.faults",
    "Latency": "card_emulator.faults",
    "Recorder": "card_emulator.recorder",
    "RemoveCard": "card_emulator.faults",
    "ReplayResult": "card_emulator.testing.replay",
    "Slot": "card_emulator.slot",
    "Tear": "card_emulator.faults",
    "Trace": "card_emulator.trace",
    "TraceEntry": "card_emulator.trace",
    "TraceFormatError": "card_emulator.trace",
    "Truncate": "card_emulator.faults",
    "apply_tries": "card_emulator.testing.factory",
    "assert_replays": "card_emulator.testing.replay",
    "card_for": "card_emulator.testing.replay",
    "diff_traces": "card_emulator.testing.replay",
    "format_entry": "card_emulator.recorder",
    "new_card": "card_emulator.testing.factory",
    "query": "card_emulator.testing.client",
    "read_ef": "card_emulator.testing.client",
    "read_trace": "card_emulator.trace",
    "replay": "card_emulator.testing.replay",
    "select_app": "card_emulator.testing.client",
    "select_app_apdu": "card_emulator.testing.client",
    "select_ef": "card_emulator.testing.client",
    "select_ef_apdu": "card_emulator.testing.client",
    "send": "card_emulator.testing.client",
    "sign": "card_emulator.testing.client",
    "sign_apdu": "card_emulator.testing.client",
    "sw_of": "card_emulator.testing.client",
    "verify": "card_emulator.testing.client",
    "verify_apdu": "card_emulator.testing.client",
    "wrong_value": "card_emulator.testing.client",
}

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


def __getattr__(name: str) -> Any:
    """The public names, imported from their module on first use; AttributeError for others."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'card_emulator.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


class _Package(types.ModuleType):
    """This package's module type: a submodule never takes the place of a public name.

    ``replay`` is both a submodule and its function. Importing a submodule sets it as an attribute
    of the package (the import system does, after loading it); the eager imports this package had
    then put the function back, the lazy ones would leave the module there."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
