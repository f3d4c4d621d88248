"""TEST key derivation: the same primes as the original search, witnesses, and the on-disk key cache."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from card_emulator import key_cache, pki, rsa_keys
from card_emulator.persona import DeterministicRandom
from tests.reference_keygen import ReferenceRandom, reference_primes

ROOT = Path(__file__).resolve().parents[1]
LABEL = b"test_keys cache label"


def _der(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _primes(key: rsa.RSAPrivateKey) -> tuple[int, int]:
    numbers = key.private_numbers()
    return numbers.p, numbers.q


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "keys"
    monkeypatch.setenv(key_cache.ENV_VAR, str(directory))
    return directory


# --- the search ----------------------------------------------------------------------------------


@settings(max_examples=3, deadline=None)
@given(st.binary(max_size=24))
def test_the_search_finds_the_primes_of_the_original_pure_python_search(label: bytes) -> None:
    key, _ = rsa_keys.derive_key(label)
    assert _primes(key) == reference_primes(label)


def test_the_shipped_test_vectors_are_what_the_search_finds() -> None:
    for label, witness in pki._TEST_KEY_WITNESSES.items():
        assert rsa_keys.search_witness(label) == witness, label


@settings(max_examples=40)
@given(st.lists(st.integers(min_value=0, max_value=200), max_size=12))
def test_the_stream_is_the_original_stream(sizes: list[int]) -> None:
    fast, slow = DeterministicRandom(b"rsa-2048", b"x"), ReferenceRandom(b"rsa-2048", b"x")
    taken = 0
    for n in sizes:
        assert fast.position == taken
        assert fast.bytes_at(taken, n) == slow.bytes(n) == fast.bytes(n)
        taken += n


def test_a_witness_of_another_label_or_out_of_range_is_refused() -> None:
    witness = rsa_keys.search_witness(LABEL)
    key = rsa_keys.rebuild_key(LABEL, witness)
    assert _primes(key) == _primes(rsa_keys.derive_key(LABEL)[0])
    a, b, c, d = witness.as_tuple()
    bad = [
        (a, b, c, 4096),  # k past the window
        (a, -1, c, d),
        (c, d, a, b),  # out of search order
        (a, b, c + 1, d),  # another draw of the stream
        (a, b, c, d + 1),  # the next odd number: divisible by 3 or another small prime
    ]
    for numbers in bad:
        with pytest.raises(ValueError):
            rsa_keys.rebuild_key(LABEL, rsa_keys.KeyWitness(*numbers))
    with pytest.raises(ValueError):
        rsa_keys.rebuild_key(b"another label", witness)


# --- the on-disk cache ---------------------------------------------------------------------------


def test_a_cached_key_is_the_searched_key_byte_for_byte(cache: Path) -> None:
    searched = rsa_keys.derive_key(LABEL)[0]
    first = key_cache.obtain_key(LABEL)  # cold: searches and writes the entry
    entry = key_cache.entry_path(cache, LABEL)
    assert entry.is_file()
    assert json.loads(entry.read_text())["format"] == key_cache.FORMAT
    again = key_cache.load(LABEL)
    assert again is not None
    assert _der(first) == _der(again) == _der(searched)


def _damage(raw: bytes) -> dict[str, bytes]:
    entry = json.loads(raw)
    wrong_label = dict(entry, label=b"other".hex())
    shifted = dict(entry, witness=[*entry["witness"][:3], entry["witness"][3] + 1])
    strings = dict(entry, witness=[str(n) for n in entry["witness"]])
    return {
        "truncated": raw[: len(raw) // 2],
        "empty": b"",
        "not json": b"\xff\xfe garbage",
        "a list": b"[1, 2, 3, 4]",
        "another label": json.dumps(wrong_label).encode(),
        "a changed witness": json.dumps(shifted).encode(),
        "witness as strings": json.dumps(strings).encode(),
        "a flipped digit": raw.replace(b'"sha256": "', b'"sha256": "0', 1),
    }


def test_a_damaged_entry_is_detected_and_regenerated(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = _der(key_cache.obtain_key(LABEL))
    entry = key_cache.entry_path(cache, LABEL)
    pristine = entry.read_bytes()
    for damage, raw in _damage(pristine).items():
        entry.write_bytes(raw)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="card_emulator.key_cache"):
            assert _der(key_cache.obtain_key(LABEL)) == good, damage
        assert "damaged entry" in caplog.text, damage
        assert key_cache.load(LABEL) is not None, damage  # rewritten sound
        assert entry.read_bytes() == pristine, damage


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for value in ("off", "0", "OFF", "false"):
        monkeypatch.setenv(key_cache.ENV_VAR, value)
        assert key_cache.cache_dir() is None
    assert _der(key_cache.obtain_key(LABEL)) == _der(rsa_keys.derive_key(LABEL)[0])
    assert list(tmp_path.iterdir()) == []


def test_the_cache_location_follows_xdg_and_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(key_cache.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert key_cache.cache_dir() == tmp_path / "xdg" / "mynumber-card-emulator" / "keys"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert key_cache.cache_dir() == tmp_path / "home" / ".cache" / "mynumber-card-emulator" / "keys"
    monkeypatch.setenv(key_cache.ENV_VAR, str(tmp_path / "mine"))
    assert key_cache.cache_dir() == tmp_path / "mine"


def test_an_unwritable_cache_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(key_cache.ENV_VAR, str(blocker / "keys"))
    assert _der(key_cache.obtain_key(LABEL)) == _der(rsa_keys.derive_key(LABEL)[0])
    assert not key_cache.save(LABEL, rsa_keys.search_witness(LABEL))


def _obtain_in_child(directory: str) -> bytes:
    os.environ[key_cache.ENV_VAR] = directory
    return _der(key_cache.obtain_key(b"test_keys concurrent label"))


def test_concurrent_processes_share_one_sound_entry(cache: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        results = pool.map(_obtain_in_child, [str(cache)] * 4)
    assert len(set(results)) == 1
    assert results[0] == _der(rsa_keys.derive_key(b"test_keys concurrent label")[0])
    names = sorted(p.name for p in cache.iterdir())
    assert [n for n in names if n.endswith(".json")] == [
        key_cache.entry_path(cache, b"test_keys concurrent label").name
    ], "no temporary file is left behind"


_CARD_BYTES = """
import hashlib, sys
from card_emulator import Card
card = Card.create(None, seed=int(sys.argv[1]))
store = card._store
parts = [repr(sorted(store.files().items())), repr(sorted(store.keys().items())),
         repr(sorted(store.records().items())), repr(sorted(store.meta().items()))]
print(hashlib.sha256("".join(parts).encode()).hexdigest())
"""


def test_same_seed_same_card_bytes_whether_cached_or_not(tmp_path: Path) -> None:
    def run(cache_setting: str) -> str:
        env = dict(os.environ, **{key_cache.ENV_VAR: cache_setting})
        result = subprocess.run(
            [sys.executable, "-c", _CARD_BYTES, "424242"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    uncached = run("off")
    cold = run(str(tmp_path))  # searches and writes the entries
    assert any(tmp_path.glob("*.v1.json"))
    warm = run(str(tmp_path))  # reads them
    assert uncached == cold == warm
