"""One spelling of every PIN name, and the aliases people type for it.

The canonical name of a PIN is its :class:`~card_emulator.rules.PinName` value (``signing``,
``user_auth``, ``resident_registry``, ``text_input_helper``, ``text_code_a``, ...): Python code,
every ``--json`` output, the test kit and scenario files print and store that one (issue 7). On
input the CLI and scenario files also accept aliases, all resolved here:

* the canonical name in any case, with ``-`` or spaces for ``_``, in full-width (全角) characters
  (NFKC): ``user-auth``, ``User Auth``, ``ＵＳＥＲ＿ＡＵＴＨ``;
* short names: ``sign`` (signing), ``auth`` (user_auth), ``resident`` / ``juki``
  (resident_registry), ``text`` (text_input_helper);
* the short Japanese names: 署名用, 利用者証明用, 住基, 券面事項入力補助 (券面入力補助).

A ``PinName`` added to ``rules.py`` is accepted under its value (and its ``-`` form) with no
change here. Standard library and ``rules`` only: cheap to import (the CLI's help uses it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from card_emulator.rules import PinName

# Short spellings beyond the canonical value and its hyphenated form (issue 12: the CLI took
# `user-auth`, `resident`, `text` before the canonical names were adopted; they keep working).
SHORT_ALIASES: dict[str, PinName] = {
    "sign": PinName.SIGNING,
    "署名用": PinName.SIGNING,
    "auth": PinName.USER_AUTH,
    "利用者証明用": PinName.USER_AUTH,
    "resident": PinName.RESIDENT_REGISTRY,
    "juki": PinName.RESIDENT_REGISTRY,
    "住基": PinName.RESIDENT_REGISTRY,
    "text": PinName.TEXT_INPUT_HELPER,
    "券面事項入力補助": PinName.TEXT_INPUT_HELPER,
    "券面入力補助": PinName.TEXT_INPUT_HELPER,
}


def _key(text: str) -> str:
    """The form names are compared in: NFKC, case-folded, runs of ``-``/space/``_`` as ``_``."""
    return re.sub(r"[\s_\-]+", "_", unicodedata.normalize("NFKC", text).strip().casefold())


def aliases_of(pin: PinName) -> tuple[str, ...]:
    """The spellings accepted for ``pin`` besides its value, shortest form first."""
    hyphenated = pin.value.replace("_", "-")
    names = [hyphenated] if hyphenated != pin.value else []
    names += [alias for alias, target in SHORT_ALIASES.items() if target is pin]
    return tuple(names)


def choices_text(pins: Iterable[PinName], *, with_aliases: bool = True) -> str:
    """``signing, user_auth, ... or text_input_helper (- for _; also: sign, auth, ...)`` for help
    texts and error messages: the canonical names, then the ASCII short aliases among them."""
    names = [pin.value for pin in pins]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    if not with_aliases:
        return listed
    hyphen = "- for _" if any("_" in name for name in names) else ""
    short = [a for a, pin in SHORT_ALIASES.items() if pin.value in names and a.isascii()]
    notes = [part for part in (hyphen, f"also: {', '.join(short)}" if short else "") if part]
    return f"{listed} ({'; '.join(notes)})" if notes else listed


def parse_pin_name(text: str, allowed: Iterable[PinName] | None = None) -> PinName:
    """The :class:`PinName` that ``text`` names (its value or an alias, see the module).

    ``allowed`` restricts the answer (default: every PinName). ValueError, whose message lists
    the choices, for an unknown name or one not allowed.
    """
    choices = list(PinName) if allowed is None else list(allowed)
    key = _key(text)
    pin: PinName | None = SHORT_ALIASES.get(key)
    if pin is None:
        try:
            pin = PinName(key)
        except ValueError:
            pin = None
    if pin is None:
        raise ValueError(f"{text!r} is not a PIN name: choose {choices_text(choices)}")
    if pin not in choices:
        raise ValueError(f"{pin.value} cannot be used here: choose {choices_text(choices)}")
    return pin


__all__ = ["SHORT_ALIASES", "aliases_of", "choices_text", "parse_pin_name"]
