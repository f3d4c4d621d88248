"""PIN values as the card keeps them: salted hashes, never plain text, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from card_emulator.rules import PinName

# PBKDF2-HMAC-SHA256. A 4-digit PIN cannot be protected by hashing alone; the point is that no card
# file, dump or trace ever holds a PIN in the clear. The count keeps a VERIFY at about a millisecond.
HASH_ITERATIONS = 2_000
SALT_BYTES = 16


def hash_pin(value: bytes, salt: bytes, iterations: int = HASH_ITERATIONS) -> bytes:
    """PBKDF2-HMAC-SHA256 of a PIN's bytes (RFC 8018), 32 bytes: how the card file keeps a PIN,
    never in plain text."""
    return hashlib.pbkdf2_hmac("sha256", value, salt, iterations)


@dataclass(frozen=True, slots=True)
class PinRecord:
    """One key reference's persistent state: the hashed value and the retry counter."""

    name: PinName
    salt: bytes
    digest: bytes
    iterations: int
    remaining: int
    max_tries: int

    @classmethod
    def new(cls, name: PinName, value: str, max_tries: int) -> PinRecord:
        """A record for ``value`` (ASCII) with a fresh random salt and every try left;
        UnicodeEncodeError for a non-ASCII value."""
        salt = os.urandom(SALT_BYTES)
        return cls(
            name, salt, hash_pin(value.encode("ascii"), salt), HASH_ITERATIONS, max_tries, max_tries
        )

    @property
    def locked(self) -> bool:
        return self.remaining == 0

    def matches(self, candidate: bytes) -> bool:
        """Constant-time comparison of the candidate's hash with the stored one."""
        return hmac.compare_digest(hash_pin(candidate, self.salt, self.iterations), self.digest)

    def with_remaining(self, remaining: int) -> PinRecord:
        """The same record with ``remaining`` tries left (a decrement or a restore)."""
        return PinRecord(
            self.name, self.salt, self.digest, self.iterations, remaining, self.max_tries
        )

    def with_value(self, value: str) -> PinRecord:
        """A new value, new salt, full tries (a change after VERIFY, or an issuer reset)."""
        return PinRecord.new(self.name, value, self.max_tries)

    def __repr__(self) -> str:  # never show even the hash in logs
        return f"PinRecord({self.name.value}, remaining={self.remaining}/{self.max_tries})"


@dataclass(frozen=True, slots=True)
class PinStatus:
    """What an issuer terminal (or `mynacard info`) may see of a PIN: tries left of its maximum
    (pin-rules.md §2); never the value."""

    pin: PinName
    remaining: int
    max_tries: int

    @property
    def locked(self) -> bool:
        """No try left: every VERIFY with data answers 6984 until an issuer reset (§2)."""
        return self.remaining == 0

    def as_json(self) -> dict[str, int | bool]:
        """``{"remaining", "max_tries", "locked"}``, as every ``--json`` and the control channel
        show a PIN's counter."""
        return {"remaining": self.remaining, "max_tries": self.max_tries, "locked": self.locked}
