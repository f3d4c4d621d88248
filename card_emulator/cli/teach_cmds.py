"""The teaching command groups, one module each (as ykman's ``_cli/`` has one per application).

Importing this module registers them on the ``mynacard`` app:

* ``rules_cmd`` — ``mynacard rules``: the four PINs, what locks them, where to reset and change them.
* ``pin_cmds`` / ``pin_reset_cmd`` — ``mynacard pin status|verify|change|reset``.
* ``simulate_cmd`` — ``mynacard simulate``: the classic scenarios as timelines.
* ``diagram_cmd`` — ``mynacard diagram``: the diagrams and access tables from the rules.
* ``learn_cmd`` — ``mynacard learn``: the learning page on 127.0.0.1.

Shared options, language and PIN input: ``teach_util``. Importing them is cheap: each command
imports the teaching tables, rich and the card when it runs (cli/app.py).
"""

from __future__ import annotations

from card_emulator.cli import (
    diagram_cmd,
    learn_cmd,
    pin_cmds,
    pin_reset_cmd,
    rules_cmd,
    simulate_cmd,
)

__all__ = ["diagram_cmd", "learn_cmd", "pin_cmds", "pin_reset_cmd", "rules_cmd", "simulate_cmd"]
