"""Fresh cards for tests: one spec, one template, a copy per test.

``CardFactory().create(seed=..., variant=..., holder={...}, pins={...}, tries={...}, locked=[...],
issued=date)`` returns a new in-memory, powered ``Card``. The keywords are the ones of the pytest
plugin's ``mynacard_factory`` and ``@pytest.mark.mynacard(...)``:

* ``seed`` (int): the synthetic holder, keys and PINs; same seed, same card (``Card.create``).
* ``variant``: ``"standard"``, ``"under15"`` (no signing certificate) or ``"expired"``
  (certificates expired, card valid); ``issued``: the issuance ``datetime.date``.
* ``holder``: persona fields to override (``name``, ``address``, ``birth_date``, ``sex``,
  ``my_number``, ``security_code``, ...; ``card_emulator.persona.Persona``).
* ``pins``: initial values by PIN name, for the four PINs a holder sets (``"signing"``,
  ``"user_auth"``, ``"resident_registry"``, ``"text_input_helper"``). 照合番号A and B come from the
  holder (the My Number; birth date, expiry year and security code: card-interface.md §5.6).
* ``tries``: tries left by PIN name (``{"user_auth": 1}``), spent by real wrong VERIFYs;
  ``locked``: PIN names to lock (no tries left: ``6984`` even for the right value). A PIN name
  is its canonical PinName value; the aliases of ``card_emulator.pin_names`` (``user-auth``,
  ``resident``, ...) are accepted too.
* ``persona``: a named persona (``card_emulator.testing.personas``); the other keywords override it.

Errors: ``ValueError`` for a bad value (wrong PIN format, unknown variant or PIN name, tries out
of range), ``TypeError`` for an unknown holder field.

Cards are made in one place, :meth:`CardFactory.fresh`: a template per spec, made once, and a
``Card.clone()`` of it per card (an independent copy, byte-identical, about 0.1 ms). Keys come from
the on-disk key cache (``card_emulator.key_cache``), so a cached seed's first card in a new process
(a pytest-xdist worker) costs tens of milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from card_emulator.card import Card
from card_emulator.issuance import Variant
from card_emulator.pin_names import parse_pin_name
from card_emulator.rules import PIN_SPECS, USER_PINS, PinName
from card_emulator.testing.client import select_app, select_ef, send, verify_apdu, wrong_value

if TYPE_CHECKING:
    from card_emulator.testing.personas import NamedPersona

__all__ = ["CardFactory", "CardSpec", "apply_tries", "default_factory", "new_card"]

_VARIANTS = ("standard", "under15", "expired")


@dataclass(frozen=True, slots=True)
class CardSpec:
    """What a card is made from (hashable: the key of a template). Build with :meth:`of`."""

    seed: int = 0
    variant: Variant = "standard"
    issued: date | None = None
    holder: tuple[tuple[str, Any], ...] = ()
    pins: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls,
        *,
        seed: int | None = None,
        variant: Variant | None = None,
        issued: date | None = None,
        holder: Mapping[str, Any] | None = None,
        pins: Mapping[str, str] | None = None,
        persona: NamedPersona | None = None,
    ) -> CardSpec:
        """A spec from the factory's keywords; ``persona`` supplies what is not given."""
        base = persona.spec() if persona is not None else cls()
        merged_holder = {**dict(base.holder), **dict(holder or {})}
        merged_pins = {
            **dict(base.pins),
            **{parse_pin_name(k).value: v for k, v in (pins or {}).items()},
        }
        for name in merged_pins:
            if PinName(name) not in USER_PINS:
                raise ValueError(
                    f"the initial {name} comes from the holder (照合番号A is the My Number, B the "
                    "birth date, expiry year and security code): set holder fields instead"
                )
        chosen = base.variant if variant is None else variant
        if chosen not in _VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(_VARIANTS)}, got {chosen!r}")
        chosen_seed = base.seed if seed is None else seed
        if not isinstance(chosen_seed, int) or isinstance(chosen_seed, bool):
            raise TypeError("seed must be an int")
        return cls(
            seed=chosen_seed,
            variant=chosen,
            issued=base.issued if issued is None else issued,
            holder=tuple(sorted(merged_holder.items())),
            pins=tuple(sorted(merged_pins.items())),
        )

    def create(self) -> Card:
        """A new in-memory card from this spec, the slow way (keys from the seed)."""
        overrides: dict[str, Any] = {**dict(self.holder), **dict(self.pins)}
        return Card.create(
            None, seed=self.seed, issued=self.issued, variant=self.variant, **overrides
        )


def apply_tries(card: Card, tries: Mapping[str, int] | None, locked: Iterable[str] = ()) -> None:
    """Spend tries with real wrong VERIFYs until each PIN has ``tries[pin]`` left (0 for each
    name in ``locked``), then reset the card (a fresh session, every counter kept).

    ``ValueError`` for a count out of 0…max, or a PIN this card does not have.
    """
    wanted = {parse_pin_name(name): count for name, count in (tries or {}).items()}
    for name in locked:
        wanted[parse_pin_name(name)] = 0
    if not wanted:
        return
    right = card.created_pins or {}
    for pin, count in wanted.items():
        spec = PIN_SPECS[pin]
        if (
            isinstance(count, bool)
            or not isinstance(count, int)
            or not 0 <= count <= spec.max_tries
        ):
            raise ValueError(f"tries for {pin.value} must be 0–{spec.max_tries}, got {count!r}")
        if pin not in card.issuer.pins():
            raise ValueError(f"this card has no {spec.name_en}")
        left = card.issuer.pin_status(pin).remaining
        if count > left:
            raise ValueError(f"{pin.value} has {left} tries left; only an issuer reset adds tries")
        select_app(card, spec.app)
        select_ef(card, spec.fid)
        wrong = wrong_value(pin, right.get(pin, ""))
        for _ in range(left - count):
            send(card, verify_apdu(wrong))
    card.reset()


class CardFactory:
    """Makes cards from specs, keeping one template per spec and cloning it.

    Thread-safe. :meth:`close` closes the templates (cards it handed out are the caller's).
    """

    def __init__(self) -> None:
        self._templates: dict[CardSpec, Card] = {}
        self._lock = threading.Lock()

    def create(
        self,
        *,
        seed: int | None = None,
        variant: Variant | None = None,
        holder: Mapping[str, Any] | None = None,
        pins: Mapping[str, str] | None = None,
        tries: Mapping[str, int] | None = None,
        locked: Iterable[str] = (),
        issued: date | None = None,
        persona: NamedPersona | None = None,
    ) -> Card:
        """A fresh, powered, in-memory card (see the module doc for the keywords)."""
        spec = CardSpec.of(
            seed=seed, variant=variant, issued=issued, holder=holder, pins=pins, persona=persona
        )
        card = self.fresh(spec)
        apply_tries(card, tries, locked)
        card.power_on()
        return card

    def fresh(self, spec: CardSpec) -> Card:
        """The one place cards are made: a ``Card.clone()`` of the spec's template (an
        independent, byte-identical card in about 0.1 ms), the template made on first use."""
        with self._lock:
            template = self._templates.get(spec)
            if template is None:
                template = self._templates[spec] = spec.create()
        return template.clone()

    def close(self) -> None:
        with self._lock:
            for template in self._templates.values():
                template.close()
            self._templates.clear()


_DEFAULT: CardFactory | None = None
_DEFAULT_LOCK = threading.Lock()


def default_factory() -> CardFactory:
    """The process-wide factory (templates shared by personas, strategies and ``new_card``)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = CardFactory()
        return _DEFAULT


def new_card(**keywords: Any) -> Card:
    """``default_factory().create(**keywords)``: a fresh card outside pytest."""
    return default_factory().create(**keywords)
