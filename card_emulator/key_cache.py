"""The on-disk key cache: each TEST key's search is done once per machine, not once per process.

What is kept is not the key but its :class:`~card_emulator.rsa_keys.KeyWitness` — where in the
label's random stream its two primes were found (four integers). Rebuilding the key from it takes
well under a millisecond; searching takes tens.

Location (first that applies):

* ``MYNACARD_KEY_CACHE=off`` (or ``0``, ``no``, ``false``, ``none``): no disk cache at all;
* ``MYNACARD_KEY_CACHE=/some/dir``: entries directly in that directory;
* ``$XDG_CACHE_HOME/mynumber-card-emulator/keys`` when ``XDG_CACHE_HOME`` is an absolute path;
* ``~/.cache/mynumber-card-emulator/keys``.

One JSON file per label, ``<SHA-256 of the label>.v1.json``. An entry is never trusted blindly: it
must parse, name the same format and the very label asked for, carry a SHA-256 over format, label
and witness that matches, and rebuild into a consistent key of that label
(:func:`card_emulator.rsa_keys.rebuild_key`: both primes are candidates of the label's own stream,
of the right size and order, without a prime factor below 2^16). Anything else is logged as damaged, and the key is searched again and
the entry rewritten. Concurrent processes and pytest-xdist workers are safe: an entry is written to
a temporary file in the same directory and renamed over the old one (readers see the old entry or
the new one, never half of one), and a per-label ``flock`` makes a second process wait for the first
one's search instead of repeating it. A cache that cannot be created or written is skipped: keys
are then searched in every process, as without a cache. The keys are the same bytes either way.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from card_emulator.rsa_keys import KeyWitness, rebuild_key, search_witness

__all__ = ["ENV_VAR", "FORMAT", "cache_dir", "entry_path", "load", "obtain_key", "save"]

log = logging.getLogger(__name__)

ENV_VAR = "MYNACARD_KEY_CACHE"
FORMAT = "mynumber-card-emulator TEST RSA-2048 key witness v1"
_OFF = {"off", "0", "no", "false", "none", "disabled"}


def cache_dir() -> Path | None:
    """The directory of the key cache, or None when it is turned off (read from the environment
    on every call, so a test may point it elsewhere)."""
    chosen = os.environ.get(ENV_VAR, "").strip()
    if chosen.lower() in _OFF:
        return None
    if chosen:
        return Path(chosen).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "mynumber-card-emulator" / "keys"


def entry_path(directory: Path, label: bytes) -> Path:
    """Where the entry of ``label`` lives in ``directory``."""
    return directory / f"{hashlib.sha256(label).hexdigest()}.v1.json"


def _digest(label: bytes, witness: tuple[int, ...]) -> str:
    material = FORMAT.encode() + b"\x00" + label + b"\x00" + json.dumps(list(witness)).encode()
    return hashlib.sha256(material).hexdigest()


def _encode(label: bytes, witness: KeyWitness) -> bytes:
    numbers = witness.as_tuple()
    entry = {
        "format": FORMAT,
        "label": label.hex(),
        "witness": list(numbers),
        "sha256": _digest(label, numbers),
        "note": "TEST key cache entry: where the key's primes are in the label's stream",
    }
    return (json.dumps(entry, indent=1) + "\n").encode()


def _decode(label: bytes, raw: bytes) -> rsa.RSAPrivateKey:
    """The key an entry stands for; ValueError saying what is wrong with it otherwise."""
    try:
        entry = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not JSON ({error})") from None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        raise ValueError("not an entry of this format")
    if entry.get("label") != label.hex():
        raise ValueError("the entry is for another label")
    numbers = entry.get("witness")
    if (
        not isinstance(numbers, list)
        or len(numbers) != 4
        or not all(type(n) is int for n in numbers)
    ):
        raise ValueError("the witness is not four integers")
    if entry.get("sha256") != _digest(label, tuple(numbers)):
        raise ValueError("digest mismatch")
    return rebuild_key(label, KeyWitness(*numbers))


def load(
    label: bytes, directory: Path | None = None, *, warn: bool = True
) -> rsa.RSAPrivateKey | None:
    """The cached key of ``label``, or None if there is no usable entry (a damaged one is logged
    as a warning unless ``warn`` is False). ``directory`` defaults to :func:`cache_dir`; None
    there means no cache."""
    directory = cache_dir() if directory is None else directory
    if directory is None:
        return None
    path = entry_path(directory, label)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        log.debug("key cache: cannot read %s: %s", path, error)
        return None
    try:
        return _decode(label, raw)
    except ValueError as error:
        if warn:
            log.warning("key cache: damaged entry %s (%s); the key is searched again", path, error)
        return None


def save(label: bytes, witness: KeyWitness, directory: Path | None = None) -> bool:
    """Write the entry of ``label`` atomically (temporary file + rename). False if it could not be
    written (the cache is then simply not used); never raises for I/O."""
    directory = cache_dir() if directory is None else directory
    if directory is None:
        return False
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(_encode(label, witness))
            os.replace(temporary, entry_path(directory, label))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as error:
        log.debug("key cache: cannot write in %s: %s", directory, error)
        return False
    return True


@contextlib.contextmanager
def _label_lock(directory: Path, label: bytes) -> Iterator[None]:
    """Hold a per-label ``flock`` (best effort: without one, two processes just search twice)."""
    handle = None
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle = open(entry_path(directory, label).with_suffix(".lock"), "ab")  # noqa: SIM115
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    except OSError as error:
        log.debug("key cache: no lock in %s: %s", directory, error)
    try:
        yield
    finally:
        if handle is not None:
            handle.close()  # releases the lock


def obtain_key(label: bytes) -> rsa.RSAPrivateKey:
    """The key of ``label``: from the cache when a sound entry is there, else searched (and the
    entry written). Same bytes either way."""
    directory = cache_dir()
    if directory is None:
        return rebuild_key(label, search_witness(label))
    key = load(label, directory)
    if key is not None:
        return key
    with _label_lock(directory, label):
        # Another process may have searched while we waited.
        key = load(label, directory, warn=False)
        if key is not None:
            return key
        witness = search_witness(label)
        save(label, witness, directory)
    return rebuild_key(label, witness)
