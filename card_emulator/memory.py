"""The card's persistent memory as the applications see it: EFs, keys and PINs over the store.

Reads come from an in-process copy loaded once; every PIN write goes to the store first, so the
copy never runs ahead of what is durable.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric import rsa

from card_emulator.pin import PinRecord
from card_emulator.rules import PIN_BY_LOCATION, AppName, FileKind, PinName
from card_emulator.signing import CardKey
from card_emulator.store import CardStore

# Bound once: ``FileKind.X`` costs an enum-metaclass hook on Python 3.11, and has_file runs per APDU.
_PIN, _PRIVATE_KEY, _RECORD = FileKind.PIN, FileKind.PRIVATE_KEY, FileKind.RECORD
_BLOCKED = FileKind.BLOCKED


class CardMemory:
    def __init__(self, store: CardStore, *, source: CardMemory | None = None) -> None:
        """The memory of the card in ``store``, read from it — or, for ``Card.clone``, taken from
        ``source``, a memory whose store holds the same rows (no re-reading). Bytes, PIN records
        and parsed keys are immutable and shared with ``source``; every container is copied, so a
        write on one card never shows on the other. Runtime state set up here starts afresh."""
        self.store = store
        self._keys: dict[tuple[AppName, int], CardKey] = {}  # parsed on first use, then kept
        # Called with the PIN's name right after a VERIFY's decrement is durable, before the
        # comparison is answered: the tearing point (fault injection, card_emulator.slot).
        self.pin_write_hooks: list[Callable[[PinName], None]] = []
        if source is None:
            self._files = store.files()
            self._records = store.records()
            self._key_der = store.keys()
            self._pins = store.pins()
        else:
            self._files = dict(source._files)
            self._records = {location: list(rows) for location, rows in source._records.items()}
            self._key_der = dict(source._key_der)
            self._keys.update(source._keys)
            self._pins = dict(source._pins)
            if "meta" in source.__dict__:
                self.__dict__["meta"] = dict(source.meta)

    @cached_property
    def meta(self) -> dict[str, str]:
        return self.store.meta()

    def copy_to(self, store: CardStore) -> CardMemory:
        """This memory over ``store``, which holds the same rows (``Card.clone``)."""
        return CardMemory(store, source=self)

    def check(self) -> None:
        """Raise if a key or a PIN record the card would use later cannot be used."""
        for app, fid in self._key_der:
            self.card_key(app, fid)
        for record in self._pins.values():
            if record.iterations < 1 or len(record.digest) != 32 or not record.salt:
                raise ValueError(f"PIN record {record.name.value} is not a usable hash")

    # -- files and keys ------------------------------------------------------------------------

    def has_file(self, app: AppName, fid: int, kind: FileKind) -> bool:
        location = (app, fid)
        if kind is _PIN:
            return PIN_BY_LOCATION.get(location) in self._pins
        if kind is _PRIVATE_KEY:
            return location in self._key_der
        if kind is _RECORD:
            return location in self._records
        if kind is _BLOCKED:  # a key reference blocked at issuance: on every card
            return True
        return location in self._files

    def file(self, app: AppName, fid: int) -> bytes:
        return self._files[(app, fid)]

    def records(self, app: AppName, fid: int) -> list[bytes]:
        return self._records[(app, fid)]

    def card_key(self, app: AppName, fid: int) -> CardKey:
        """The key EF's private key, parsed and checked once per card (then shared by its clones).

        KeyError if there is none; ValueError if its DER is not a consistent RSA private key.
        """
        location = (app, fid)
        key = self._keys.get(location)
        if key is None:
            key = self._keys[location] = CardKey.from_der(self._key_der[location])
        return key

    def private_key(self, app: AppName, fid: int) -> rsa.RSAPrivateKey:
        """The ``cryptography`` key of :meth:`card_key`."""
        return self.card_key(app, fid).key

    # -- PINs ----------------------------------------------------------------------------------

    def has_pin(self, pin: PinName) -> bool:
        return pin in self._pins

    def pin(self, pin: PinName) -> PinRecord:
        return self._pins[pin]

    def verify_pin(self, pin: PinName, candidate: bytes) -> bool:
        """One try, anti-tearing, in three steps (pin-rules.md §2, §6):

        1. the decrement is durable (in the card file's main file, fsynced) before anything else;
        2. only then is the candidate compared (constant time, ``PinRecord.matches``);
        3. a correct value restores the maximum, written without waiting for the disk: a power
           loss may lose the restore, which costs a try and never gives one back.

        Killing the process at any instant can cost a try, never give one back; the answer to a
        wrong entry cannot be seen before its decrement is durable. Raises ``CardStorageError`` if
        the card file cannot be written (if that is the decrement, nothing was compared).
        """
        record = self._pins[pin]
        spent = record.with_remaining(record.remaining - 1)
        self.store.save_remaining(spent, durable=True)  # 1. durable before the comparison
        self._pins[pin] = spent
        self.after_durable_decrement(pin)  # fault hooks: the decrement is durable, no answer yet
        if not record.matches(candidate):  # 2.
            return False
        restored = record.with_remaining(record.max_tries)  # 3.
        self.store.save_remaining(restored, durable=False)
        self._pins[pin] = restored
        return True

    def after_durable_decrement(self, pin: PinName) -> None:
        """Run the tearing hooks: the decrement is on the store, the comparison not yet answered."""
        for hook in self.pin_write_hooks:
            hook(pin)

    def set_pin_value(self, pin: PinName, value: str) -> None:
        """A new value with full tries: CHANGE after VERIFY, or an issuer reset."""
        record = self._pins[pin].with_value(value)
        self.store.save_pin(record)
        self._pins[pin] = record
