"""A process-level cache of issued cards: a card already created in this process costs one clone.

``Card.create(None, seed=..., ...)`` keeps the card it issues for those arguments as a *template*
(never handed out) and returns :meth:`Card.clone` of it: the same bytes in every EF, key and
counter, in a fraction of a millisecond instead of the 10–15 ms of issuing it again (certificates,
the PIN hashes). ``Card.create(path, ...)`` reuses the issued content (the :class:`CardImage`) but
hashes its PINs afresh with new salts, as every card file gets its own.

The arguments are the key (see :func:`key`; arguments that cannot be hashed are not cached); at
most :data:`LIMIT` templates are kept, least recently used dropped first. Thread-safe.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    import os

    from card_emulator.card import Card
    from card_emulator.issuance import CardImage, Variant

    CardT = TypeVar("CardT", bound=Card)

__all__ = ["LIMIT", "Template", "card_meta", "clear", "create_card", "key", "lookup", "remember"]

LIMIT = 64

_lock = threading.Lock()
_templates: OrderedDict[Hashable, Template] = OrderedDict()


@dataclass(slots=True)
class Template:
    """What one set of arguments issued: the content, the card's metadata, and (once an in-memory
    card was asked for) the template card that clones are made from."""

    image: CardImage
    meta: dict[str, str]
    card: Card | None = field(default=None)


def create_card(
    cls: type[CardT],
    path: str | os.PathLike[str] | None,
    seed: int,
    issued: date | None,
    variant: Variant,
    atr: bytes,
    overrides: Mapping[str, Any],
) -> CardT:
    """``Card.create``'s work (its docstring says what it gives): issue once per argument set
    (``issuance.issue_card``; ValueError/TypeError for bad arguments), then an in-memory card is a
    clone of the template, a card file a new store filled from the issued content with PINs hashed
    afresh (``CardFileError`` if the file exists or its directory does not)."""
    from card_emulator.issuance import issue_card  # heavy (key generation): import on use
    from card_emulator.pin import PinRecord
    from card_emulator.rules import PIN_SPECS
    from card_emulator.store import CardStore

    cache_key = key(cls, seed, issued, variant, atr, **overrides)
    template = None if cache_key is None else lookup(cache_key)
    if template is None:
        image = issue_card(seed, issued=issued, variant=variant, **overrides)
        template = Template(image, card_meta(image, seed, variant, atr))
        if cache_key is not None:
            remember(cache_key, template)
    if path is None and template.card is not None:
        return cast("CardT", template.card.clone())  # a clone of a template made by cls
    image = template.image
    pins = [
        PinRecord.new(name, value, image.max_tries.get(name, PIN_SPECS[name].max_tries))
        for name, value in sorted(image.pins.items())
    ]
    store = CardStore.create(
        path,
        meta=template.meta,
        files=image.files,
        records=image.records,
        keys=image.keys,
        pins=pins,
    )
    card = cls(store)
    card.created_pins = dict(image.pins)
    if path is not None or cache_key is None:
        return card
    card.load_keys()  # parse and check the keys once; every clone shares them
    template.card = card
    return cast("CardT", card.clone())


def key(*parts: Any, **named: Any) -> Hashable | None:
    """The cache key of ``Card.create``'s arguments, or None when one of them is unhashable (such
    a call is not cached). Each value counts with its type and its ``repr`` as well as by
    equality, so ``1``, ``True`` and ``1.0`` — or ``(1,)`` and ``(True,)`` — are told apart, and
    values whose ``repr`` hides them (``InitialPins``) still compare by value. A mapping (such as
    ``max_tries={"surface_code_b": 5}``) counts by its items, each typed the same way."""
    typed = tuple(_typed(v) for v in parts) + tuple(
        (name, *_typed(v)) for name, v in sorted(named.items())
    )
    try:
        hash(typed)
    except TypeError:
        return None
    return typed


def _typed(value: Any) -> tuple[Any, ...]:
    if isinstance(value, Mapping):
        items = sorted(((_typed(k), _typed(v)) for k, v in value.items()), key=repr)
        return (type(value), tuple(items))
    return (type(value), value, repr(value))


def lookup(cache_key: Hashable) -> Template | None:
    """The template of these arguments, if this process issued it and still keeps it."""
    with _lock:
        template = _templates.get(cache_key)
        if template is not None:
            _templates.move_to_end(cache_key)
        return template


def remember(cache_key: Hashable, template: Template) -> None:
    """Keep ``template`` for these arguments (dropping the least recently used past LIMIT)."""
    with _lock:
        _templates[cache_key] = template
        _templates.move_to_end(cache_key)
        while len(_templates) > LIMIT:
            _templates.popitem(last=False)


def clear() -> None:
    """Forget every template (the next ``Card.create`` of any arguments issues again)."""
    with _lock:
        _templates.clear()


def card_meta(image: CardImage, seed: int, variant: str, atr: bytes) -> dict[str, str]:
    """A new card's ``meta`` rows: format, seed, variant, issuance date, ATR (hex), serial, the
    holder as JSON (every persona field but the PINs), the TEST label, and the MF-level GET DATA
    objects (``card_emulator.mf``, spec §8)."""
    from card_emulator import mf

    persona = image.persona
    holder = {
        f.name: _json_value(getattr(persona, f.name)) for f in fields(persona) if f.name != "pins"
    }
    return {
        "format": "mynumber-card-emulator card",
        "seed": str(seed),
        "variant": variant,
        "issued": image.issued.isoformat(),
        "atr": atr.hex().upper(),
        "serial": image.serial,
        "holder": json.dumps(holder, ensure_ascii=False, sort_keys=True),
        "test_card": "synthetic holder, test keys: not a real identity",
        mf.META_KEY: mf.objects_to_meta(image.mf_objects),
    }


def _json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value
