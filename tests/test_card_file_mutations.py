"""Issue 12's "done when": hundreds of damaged card files, each refused in one line and left exactly
as it was, or opened with exactly the content the card was issued with — never anything between.

Mutations: truncations and growth, every byte of the SQLite header, damage to every page (type
byte, cell pointers, middle, last byte, the whole page zeroed), a byte flipped in every stored value
(each EF, record, key, holder field, PIN hash and salt, the seal), wrong journal modes, and side
files: another card's and a stale hot journal and write-ahead log, empty, zeroed, random, and a
directory in their place. (Unreadable, unwritable and symlinked files need a second user: they are
in test_card_files.py.)
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from card_emulator import Card, CardFileError, PinName
from tests.card_file_tools import (
    contents,
    copy_card,
    folder_fingerprint,
    kill_during_a_write,
    to_rollback_mode,
)

Mutation = Callable[[Path], None]


def _cut(size: int | Callable[[int], int]) -> Mutation:
    def apply(path: Path) -> None:
        raw = path.read_bytes()
        keep = size(len(raw)) if callable(size) else size
        path.write_bytes(raw[:keep])

    return apply


def _flip(offset: int, mask: int = 0x01) -> Mutation:
    def apply(path: Path) -> None:
        raw = bytearray(path.read_bytes())
        raw[offset] ^= mask
        path.write_bytes(bytes(raw))

    return apply


def _set(offset: int, value: bytes) -> Mutation:
    def apply(path: Path) -> None:
        raw = bytearray(path.read_bytes())
        raw[offset : offset + len(value)] = value
        path.write_bytes(bytes(raw))

    return apply


def _append(extra: bytes) -> Mutation:
    def apply(path: Path) -> None:
        path.write_bytes(path.read_bytes() + extra)

    return apply


def _beside(suffix: str, content: bytes | None) -> Mutation:
    """A side file (``-journal``/``-wal``) with ``content``; None puts a directory there."""

    def apply(path: Path) -> None:
        side = path.with_name(path.name + suffix)
        if content is None:
            side.mkdir()
        else:
            side.write_bytes(content)

    return apply


def _then(*steps: Mutation) -> Mutation:
    def apply(path: Path) -> None:
        for step in steps:
            step(path)

    return apply


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[object, ...]]:
    path = tmp_path_factory.mktemp("issued") / "a.card"
    with Card.create(path, seed=41) as card:
        return path, contents(card)


@pytest.fixture(scope="module")
def side_files(
    issued: tuple[Path, tuple[object, ...]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, bytes]:
    """Hot journals and logs: another card's, and this card's from a copy that went on living."""
    made: dict[str, bytes] = {}
    for who in ("another", "stale"):
        for suffix in ("-journal", "-wal"):
            folder = tmp_path_factory.mktemp(f"{who}{suffix}")
            if who == "another":
                path = folder / "a.card"
                with Card.create(path, seed=41) as card:  # same seed and layout, another card
                    code_b = (card.created_pins or {})[PinName.TEXT_CODE_B]
            else:
                path = copy_card(issued[0], folder)
                with Card.open(path) as card:
                    code_b = ""
                    card.issuer.reset_pin(PinName.TEXT_CODE_B, "0" * 14)
                    code_b = "0" * 14
            if suffix == "-journal":
                to_rollback_mode(path)
            kill_during_a_write(path, code_b, suffix)
            made[f"{who}{suffix}"] = path.with_name(path.name + suffix).read_bytes()
    return made


def mutations(raw: bytes, values: list[bytes], side: dict[str, bytes]) -> dict[str, Mutation]:
    page = int.from_bytes(raw[16:18], "big")
    pages = len(raw) // page
    found: dict[str, Mutation] = {
        "cut 1 byte": _cut(lambda n: n - 1),
        "cut 2 bytes": _cut(lambda n: n - 2),
        "cut 100 bytes": _cut(lambda n: n - 100),
        "cut a page less one byte": _cut(lambda n: n - page + 1),
        "cut a whole page": _cut(lambda n: n - page),
        "cut a page and a byte": _cut(lambda n: n - page - 1),
        "cut to half": _cut(lambda n: n // 2),
        "cut to one page": _cut(page),
        "cut to the header": _cut(100),
        "cut inside the header": _cut(99),
        "cut to the magic": _cut(16),
        "cut to nothing": _cut(0),
        "grown by a byte": _append(b"\x00"),
        "grown by a zero page": _append(bytes(page)),
        "grown by a random page": _append(random.Random(1).randbytes(page)),
    }
    for offset in range(100):
        found[f"header byte {offset} flipped"] = _flip(offset)
    for mode in (b"\x01\x01", b"\x01\x02", b"\x02\x01", b"\x03\x03", b"\x00\x00"):
        found[f"journal mode bytes {mode.hex()}"] = _set(18, mode)
    for number in range(2, pages + 1):
        start = (number - 1) * page
        found[f"page {number}: type byte"] = _flip(start, 0xFF)
        found[f"page {number}: cell count"] = _flip(start + 4, 0x10)
        found[f"page {number}: first cell pointer"] = _flip(start + 8, 0x40)
        found[f"page {number}: middle"] = _flip(start + page // 2, 0x80)
        found[f"page {number}: last byte"] = _flip(start + page - 1, 0x04)
        found[f"page {number}: zeroed"] = _set(start, bytes(page))
    for index, value in enumerate(values):
        at = raw.find(value)
        if at >= 0:
            found[f"stored value {index} ({len(value)} bytes): one bit"] = _flip(
                at + len(value) // 2
            )
    for name, content in side.items():
        found[f"{name} of {name.split('-')[0]} card state"] = _beside(
            f"-{name.split('-')[1]}", content
        )
        found[f"{name} beside a rollback-mode card"] = _then(
            to_rollback_mode, _beside(f"-{name.split('-')[1]}", content)
        )
    for suffix in ("-journal", "-wal"):
        found[f"empty {suffix}"] = _beside(suffix, b"")
        found[f"zeroed {suffix}"] = _beside(suffix, bytes(page + 512))
        found[f"random {suffix}"] = _beside(suffix, random.Random(2).randbytes(3 * page))
        found[f"a directory as {suffix}"] = _beside(suffix, None)
        first = side[f"stale{suffix}"]
        found[f"stale {suffix} with a bit flipped"] = _beside(
            suffix, first[:40] + bytes([first[40] ^ 1]) + first[41:]
        )
    return found


def stored_values(issued_contents: tuple[object, ...]) -> list[bytes]:
    meta, files, records, keys, _ = issued_contents
    assert isinstance(meta, dict) and isinstance(files, dict)
    assert isinstance(records, dict) and isinstance(keys, dict)
    values = [f"{key}".encode() + str(value).encode()[:40] for key, value in meta.items()]
    values += list(files.values()) + list(keys.values())
    values += [record for rows in records.values() for record in rows]
    return [value for value in values if len(value) >= 8]


def test_every_damaged_file_is_refused_untouched_or_opens_as_issued(
    issued: tuple[Path, tuple[object, ...]], side_files: dict[str, bytes], tmp_path: Path
) -> None:
    raw = issued[0].read_bytes()
    cases = mutations(raw, stored_values(issued[1]), side_files)
    assert len(cases) >= 100
    outcomes: dict[str, str] = {}
    wrong: list[str] = []
    for index, (name, mutate) in enumerate(cases.items()):
        path = copy_card(issued[0], tmp_path / f"m{index:03d}")
        mutate(path)
        before = folder_fingerprint(path.parent)
        try:
            card = Card.open(path)
        except CardFileError as refusal:
            message = str(refusal)
            outcomes[name] = "refused"
            if "\n" in message or not message.startswith(str(path)):
                wrong.append(f"{name}: not one line naming the file: {message!r}")
            if folder_fingerprint(path.parent) != before:
                wrong.append(f"{name}: refused, but the files changed")
        except Exception as error:
            wrong.append(f"{name}: {type(error).__name__}: {error}")
        else:
            with card:
                outcomes[name] = "opened"
                if contents(card) != issued[1]:
                    wrong.append(f"{name}: opened with content other than the card as issued")
        shutil.rmtree(path.parent, onerror=lambda *args: os.chmod(args[1], 0o700))
    assert not wrong, "\n".join(wrong)
    refused = sum(1 for outcome in outcomes.values() if outcome == "refused")
    assert refused >= 100, outcomes
    for must in (
        "cut 1 byte",
        "another-journal of another card state",
        "stale-wal of stale card state",
    ):
        assert outcomes[must] == "refused"
