"""The card's persistent memory as the applications see it: EFs, keys and PINs over the store.

Reads come from an in-process copy loaded once; every PIN write goes to the store first, so the
copy never runs ahead of what is durable.
"""

from __future__ import annotations

from functools import cached_property

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_private_key

from card_emulator.pin import PinRecord
from card_emulator.rules import PIN_BY_LOCATION, AppName, FileKind, PinName
from card_emulator.store import CardStore


class CardMemory:
    def __init__(self, store: CardStore) -> None:
        self.store = store
        self._files = store.files()
        self._records = store.records()
        self._key_der = store.keys()
        self._keys: dict[tuple[AppName, int], rsa.RSAPrivateKey] = {}
        self._pins = store.pins()

    @cached_property
    def meta(self) -> dict[str, str]:
        return self.store.meta()

    def check(self) -> None:
        """Raise if a key or a PIN record the card would use later cannot be used."""
        for app, fid in self._key_der:
            self.private_key(app, fid)
        for record in self._pins.values():
            if record.iterations < 1 or len(record.digest) != 32 or not record.salt:
                raise ValueError(f"PIN record {record.name.value} is not a usable hash")

    # -- files and keys ------------------------------------------------------------------------

    def has_file(self, app: AppName, fid: int, kind: FileKind) -> bool:
        location = (app, fid)
        if kind is FileKind.BLOCKED:  # a key reference blocked at issuance: on every card
            return True
        if kind is FileKind.PIN:
            return PIN_BY_LOCATION.get(location) in self._pins
        if kind is FileKind.PRIVATE_KEY:
            return location in self._key_der
        if kind is FileKind.RECORD:
            return location in self._records
        return location in self._files

    def file(self, app: AppName, fid: int) -> bytes:
        return self._files[(app, fid)]

    def records(self, app: AppName, fid: int) -> list[bytes]:
        return self._records[(app, fid)]

    def private_key(self, app: AppName, fid: int) -> rsa.RSAPrivateKey:
        location = (app, fid)
        key = self._keys.get(location)
        if key is None:
            loaded = load_der_private_key(self._key_der[location], password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise TypeError(f"key {app.value}/{fid:04X} is not RSA")
            key = self._keys[location] = loaded
        return key

    # -- PINs ----------------------------------------------------------------------------------

    def has_pin(self, pin: PinName) -> bool:
        return pin in self._pins

    def pin(self, pin: PinName) -> PinRecord:
        return self._pins[pin]

    def verify_pin(self, pin: PinName, candidate: bytes) -> bool:
        """One try, anti-tearing: the decrement is durable before the comparison is even made.

        A correct value then restores the maximum (pin-rules.md §2: one correct entry resets the
        count). Killing the process at any instant can cost a try, never give one back.
        """
        record = self._pins[pin]
        spent = record.with_remaining(record.remaining - 1)
        self.store.save_remaining(pin, spent.remaining)
        self._pins[pin] = spent
        if not record.matches(candidate):
            return False
        restored = record.with_remaining(record.max_tries)
        self.store.save_remaining(pin, restored.remaining)
        self._pins[pin] = restored
        return True

    def set_pin_value(self, pin: PinName, value: str) -> None:
        """A new value with full tries: CHANGE after VERIFY, or an issuer reset."""
        record = self._pins[pin].with_value(value)
        self.store.save_pin(record)
        self._pins[pin] = record
