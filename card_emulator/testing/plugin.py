"""The ``mynacard`` pytest plugin: a fresh card per test, its reader, its trace, its faults.

Registered through the ``pytest11`` entry point (no conftest needed). Fixtures:

* ``mynacard`` — a fresh, powered, in-memory ``Card`` (``@pytest.mark.mynacard(...)`` configures it
  with the keywords of the factory).
* ``mynacard_factory`` — ``mynacard_factory(seed=..., variant=..., holder={...}, pins={...},
  tries={pin: n}, locked=[pin, ...], issued=date, persona=..., max_tries={...})`` makes more
  cards in one test; ``.slot(card, faults)``, ``.reader(card_or_slot)``, ``.trace(card)`` as below.
* ``mynacard_slot`` — the test's card in a ``card_emulator.slot.Slot``: remove, insert, faults.
* ``mynacard_reader`` — the test's card (in its slot) behind an in-process pyscard reader with no
  daemon; the reader's name, so ``smartcard.System.readers()`` code works unchanged. More readers:
  ``mynacard_factory.reader(other_card)``; several are open at once.
* ``mynacard_trace`` — the recorder of the test's card (``.entries``, ``.save(path)``).

When a test fails, its report gets a section per card with the card's last exchanges (PIN data
redacted) and the card's reason and diagnosis for each refusal. ``--mynacard-traces DIR`` also
writes each failing test's traces as JSON Lines; ``--mynacard-report N`` sets how many exchanges
the report shows (0: none); the ini option ``mynacard_seed`` sets the default seed (0).

Loading the plugin loads pytest and this module only: the card, its keys, the recorder and the
slot are imported when a test first asks for a fixture (issue 10: every pytest process, and each
pytest-xdist worker, loads the plugin; a suite that never uses it pays nothing).
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from card_emulator.card import Card
    from card_emulator.faults import Fault, FaultPlan
    from card_emulator.issuance import Variant
    from card_emulator.recorder import Recorder
    from card_emulator.slot import Slot
    from card_emulator.testing.factory import CardFactory
    from card_emulator.testing.personas import NamedPersona
    from card_emulator.trace import TraceEntry

__all__ = ["MynacardFactory"]

_FACTORY = pytest.StashKey["CardFactory"]()  # made by the first test that asks for a card
_CARDS = pytest.StashKey["list[tuple[str, Recorder]]"]()
# The served card's trace files (label, path): written by the serve process, read on a failure.
SERVED_TRACES = pytest.StashKey["list[tuple[str, Path]]"]()
_MARKER_HELP = (
    "mynacard(seed=0, variant='standard', holder=None, pins=None, tries=None, locked=(), "
    "issued=None, persona=None, max_tries=None): configure the test's mynacard card (the "
    "mynacard_factory keywords)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mynacard", "My Number Card emulator (mynumber-card-emulator)")
    group.addoption(
        "--mynacard-traces",
        metavar="DIR",
        default=None,
        help="write the traces (JSON Lines) of every card of a failing test to DIR",
    )
    group.addoption(
        "--mynacard-report",
        metavar="N",
        type=int,
        default=20,
        help="exchanges per card shown in a failing test's report (default 20; 0: none)",
    )
    parser.addini("mynacard_seed", "default seed of the mynacard fixtures' cards", default="0")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_HELP)


def pytest_unconfigure(config: pytest.Config) -> None:
    factory = config.stash.get(_FACTORY, None)
    if factory is not None:
        factory.close()


class MynacardFactory:
    """The ``mynacard_factory`` fixture: cards, slots, readers and traces for one test.

    Everything it opens is closed when the test ends (readers first, then slots and cards).
    """

    def __init__(self, node: pytest.Item, factory: CardFactory, default_seed: int) -> None:
        self._node = node
        self._factory = factory
        self._default_seed = default_seed
        self._stack = ExitStack()
        self._recorders: dict[int, Recorder] = {}
        self._slots: dict[int, Slot] = {}
        node.stash.setdefault(_CARDS, [])

    def __call__(
        self,
        *,
        seed: int | None = None,
        variant: Variant | None = None,
        holder: dict[str, Any] | None = None,
        pins: dict[str, str] | None = None,
        tries: dict[str, int] | None = None,
        locked: Iterable[str] = (),
        issued: date | None = None,
        persona: NamedPersona | None = None,
        max_tries: dict[str, int] | None = None,
    ) -> Card:
        """A fresh, powered, in-memory card (``card_emulator.testing.factory`` for the keywords;
        ``ValueError``/``TypeError`` for bad ones). Its exchanges are recorded for the report."""
        from card_emulator.recorder import Recorder

        if seed is None and persona is None:
            seed = self._default_seed
        card = self._factory.create(
            seed=seed,
            variant=variant,
            holder=holder,
            pins=pins,
            tries=tries,
            locked=locked,
            issued=issued,
            persona=persona,
            max_tries=max_tries,
        )
        self._stack.callback(card.close)
        recorder = Recorder().attach(card)
        self._stack.callback(recorder.close)
        self._recorders[id(card)] = recorder
        cards = self._node.stash[_CARDS]
        label = f"card {len(cards) + 1} ({_describe(card, persona)})"
        cards.append((label, recorder))
        return card

    def trace(self, card: Card) -> Recorder:
        """The recorder of a card this factory made (its slot's, once it has one)."""
        try:
            return self._recorders[id(card)]
        except KeyError:
            raise ValueError("this card was not made by mynacard_factory") from None

    def slot(self, card: Card, faults: FaultPlan | Iterable[Fault] | None = None) -> Slot:
        """``card`` in a slot (the same slot on each call), with ``faults`` set when given; its
        recorder then sees removals and faults too."""
        from card_emulator.slot import Slot

        slot = self._slots.get(id(card))
        if slot is None:
            slot = self._slots[id(card)] = Slot(card)
            self._stack.callback(slot.close)
            recorder = self.trace(card)
            recorder.detach()
            recorder.attach(slot)
        if faults is not None:
            slot.set_faults(faults)
        return slot

    def reader(self, card: Card | Slot | None = None, *, name: str | None = None) -> str:
        """Put ``card`` (a new default card when None) behind an in-process pyscard reader for
        the rest of the test; returns the reader's name. Needs pyscard (the ``pcsc`` extra)."""
        from card_emulator.slot import Slot
        from card_emulator.transport.pyscard_reader import PyscardUnavailableError, emulated_reader

        target = card if card is not None else self()
        slot = target if isinstance(target, Slot) else self.slot(target)
        try:
            reader = self._stack.enter_context(emulated_reader(slot, name))
        except PyscardUnavailableError as error:
            pytest.fail(str(error), pytrace=False)
        return str(reader.name)

    def close(self) -> None:
        """Close every card, slot, reader and recorder this test made (the fixture does it at
        teardown)."""
        self._stack.close()


def _describe(card: Card, persona: NamedPersona | None) -> str:
    meta = card.issuer.meta()
    text = f"seed {meta.get('seed')}, {meta.get('variant')}"
    return f"{text}, {persona!r}" if persona is not None else text


@pytest.fixture
def mynacard_factory(request: pytest.FixtureRequest) -> Iterator[MynacardFactory]:
    """Makes cards for this test: ``mynacard_factory(seed=..., ...)`` (see ``MynacardFactory``)."""
    config = request.config
    seed = int(str(config.getini("mynacard_seed")) or 0)
    node = request.node
    assert isinstance(node, pytest.Item)
    cards = config.stash.get(_FACTORY, None)
    if cards is None:
        from card_emulator.testing.factory import CardFactory

        cards = config.stash[_FACTORY] = CardFactory()
    factory = MynacardFactory(node, cards, seed)
    yield factory
    factory.close()


@pytest.fixture
def mynacard(request: pytest.FixtureRequest, mynacard_factory: MynacardFactory) -> Card:
    """A fresh, powered, in-memory My Number Card (test keys, synthetic holder).

    ``@pytest.mark.mynacard(seed=..., variant=..., holder=..., pins=..., tries=..., locked=...,
    issued=..., persona=..., max_tries=...)`` configures it; its initial PINs are
    ``card.created_pins``.
    """
    marker = request.node.get_closest_marker("mynacard")
    if marker is not None and marker.args:
        raise pytest.UsageError("@pytest.mark.mynacard takes keywords only")
    keywords = dict(marker.kwargs) if marker is not None else {}
    return mynacard_factory(**keywords)


@pytest.fixture
def mynacard_slot(mynacard: Card, mynacard_factory: MynacardFactory) -> Slot:
    """The test's card in a reader slot: ``remove()``, ``insert()``, ``set_faults([...])``."""
    return mynacard_factory.slot(mynacard)


@pytest.fixture
def mynacard_reader(mynacard_slot: Slot, mynacard_factory: MynacardFactory) -> str:
    """The name of an in-process pyscard reader holding the test's card (no pcscd needed)."""
    return mynacard_factory.reader(mynacard_slot)


@pytest.fixture
def mynacard_trace(mynacard: Card, mynacard_factory: MynacardFactory) -> Recorder:
    """The recorder of the test's card: ``entries``, ``save(path)``, ``note(text)``."""
    return mynacard_factory.trace(mynacard)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    cards = item.stash.get(_CARDS, None)
    served = item.stash.get(SERVED_TRACES, None)
    if not (cards or served) or not report.failed or call.when == "teardown":
        return
    shown = item.config.getoption("--mynacard-report")
    if shown:
        for label, recorder in cards or ():
            report.sections.append((f"mynacard: {label}", _report(recorder, shown)))
        for label, path in served or ():
            report.sections.append((f"mynacard: {label}", _served_report(path, shown)))
    if not cards:
        return
    directory = item.config.getoption("--mynacard-traces")
    if directory:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_")
        for index, (_, recorder) in enumerate(cards, start=1):
            path = folder / f"{stem}.card{index}.jsonl"
            recorder.save(path)
            report.sections.append(("mynacard: traces", f"written to {path}"))


def _report(recorder: Recorder, shown: int) -> str:
    return _last_exchanges(recorder.entries, shown, recorder.count)


def _served_report(path: Path, shown: int) -> str:
    """The last ``shown`` exchanges of a served card's trace file (the serve process writes it,
    a line per exchange as it goes), with where the whole trace is."""
    from card_emulator.trace import TraceFormatError, read_trace

    if not path.exists() or not path.stat().st_size:
        return f"no exchanges (trace {path})"
    try:
        entries = read_trace(path).entries
    except TraceFormatError as error:
        return f"cannot read the trace: {error}"
    total = sum(1 for entry in entries if entry.is_exchange)
    return f"{_last_exchanges(entries, shown, total)}\nwhole trace: {path}"


def _last_exchanges(entries: Sequence[TraceEntry], shown: int, total: int) -> str:
    from card_emulator.recorder import format_entry

    positions = [i for i, e in enumerate(entries) if e.is_exchange]
    if not positions:
        return "no exchanges"
    start = positions[-shown] if len(positions) > shown else 0
    head = f"last {min(shown, len(positions))} of {total} exchanges (PIN data redacted)"
    return "\n".join([head, *(format_entry(e) for e in entries[start:])])


# The served card (issue 8): one `mynacard serve` per session, the card swapped between tests.
from card_emulator.testing.served import (  # noqa: E402  (registers the fixtures)
    _mynacard_served_session as _mynacard_served_session,
)
from card_emulator.testing.served import mynacard_served as mynacard_served  # noqa: E402
