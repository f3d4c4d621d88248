"""What every application (AP) of the card shares: EF selection, READ BINARY / RECORD, VERIFY, CHANGE.

The access rules come from ``card_emulator.rules.FILE_RULES``; an application adds only what is its
own (COMPUTE DIGITAL SIGNATURE in JPKI, CHANGE KEY in 住基).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from apdu import CommandApdu, StatusWord, verify_failed, wrong_le_sw
from card_emulator.errors import CardError
from card_emulator.memory import CardMemory
from card_emulator.rules import (
    AP_SIGNING_KEYS,
    FILE_RULE_BY_LOCATION,
    INTERNAL_AUTHENTICATION_KEYS,
    PIN_BY_LOCATION,
    PIN_SPECS,
    AppName,
    ChangeCommand,
    FileKind,
    FileRule,
    PinName,
)
from card_emulator.sm import SmSession

SW = StatusWord
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
# Bound once: on Python 3.11 every ``FileKind.X`` goes through the enum metaclass's ``__getattr__``
# hook (~1,000 instructions, ~0.2 µs), and these are read on every READ BINARY.
_PIN, _PRIVATE_KEY, _RECORD, _SECRET, _BLOCKED = (
    FileKind.PIN,
    FileKind.PRIVATE_KEY,
    FileKind.RECORD,
    FileKind.SECRET,
    FileKind.BLOCKED,
)


@dataclass(slots=True)
class Session:
    """Volatile state: gone with a DF select (partly), a power-off or a reset (card-interface.md §2.1)."""

    app: AppName | None = None
    ef: int | None = None
    verified: set[PinName] = field(default_factory=set)
    pending: bytes = b""  # response bytes waiting for GET RESPONSE (61xx)
    sm: SmSession | None = None  # secure messaging, text AP only (card-interface.md §5.7)

    def restart(self, app: AppName | None) -> None:
        """A DF selected by name: ``app`` (None: the issuer security domain) with nothing else —
        no EF, nothing verified, no SM session, nothing waiting (§2.1). In place, equal to
        ``Session(app=app)``, so whoever holds this session (the card, a ``steering.Contact``)
        sees it."""
        self.app = app
        self.ef = None
        self.verified = set()
        self.pending = b""
        self.sm = None


@dataclass(slots=True)
class Note:
    """What the card makes of one command, for observers (card_emulator.trace.Exchange).

    The card reuses one note for command after command (``Card.transmit`` clears it first, issue
    10): observers get an ``Exchange`` copied from it, never the note, and nothing may keep it
    past the command it describes."""

    action: str = "unknown"
    pin: PinName | None = None
    reason: str = ""


@dataclass(slots=True)
class Context:
    """What a handler works on during one exchange: the card's memory, the current session and the
    note observers will get.

    A context serves one ``Card.transmit`` at a time: the card lends its own to each command (its
    note cleared first; issue 10: nothing allocated per APDU), a command sent while another is
    being answered (by a PIN-write hook or an observer) gets a fresh one with the same session,
    and ``Card.other_contact`` lends another contact's. A handler must not keep the context or its
    note once it has returned (tests/test_card_nested.py)."""

    memory: CardMemory
    session: Session
    note: Note


Handler = Callable[["Application", CommandApdu, Context], bytes]


class Application:
    """A DF selected by AID. Subclasses extend ``handlers`` with their own instructions."""

    name: ClassVar[AppName]
    # (CLA class, INS) -> handler; CLA class is 0x00 (interindustry) or 0x80 (proprietary)
    handlers: ClassVar[dict[tuple[int, int], Handler]] = {}

    def handle(self, command: CommandApdu, ctx: Context) -> bytes:
        """Run the handler of ``(CLA & 80, INS)``: the response data, or ``CardError`` with the
        card's status word (6D00 for an instruction this application lacks, ISO 7816-4 §5.6)."""
        handler = self.handlers.get((command.cla & 0x80, command.ins))
        if handler is None:
            raise CardError(SW.INS_NOT_SUPPORTED, "this application has no such instruction")
        return handler(self, command, ctx)

    # -- files ---------------------------------------------------------------------------------

    @cached_property
    def rule_by_fid(self) -> dict[int, FileRule]:
        """This application's part of ``FILE_RULE_BY_LOCATION``, by FID."""
        return {fid: rule for (app, fid), rule in FILE_RULE_BY_LOCATION.items() if app is self.name}

    @cached_property
    def pin_by_fid(self) -> dict[int, PinName]:
        """This application's part of ``PIN_BY_LOCATION``, by FID."""
        return {fid: pin for (app, fid), pin in PIN_BY_LOCATION.items() if app is self.name}

    def file_rule(self, ctx: Context, fid: int) -> FileRule:
        """The rule of an EF this card really has (a card without a signing certificate lacks 0001)."""
        rule = self.rule_by_fid.get(fid)
        if rule is None or not ctx.memory.has_file(self.name, fid, rule.kind):
            raise CardError(SW.FILE_NOT_FOUND, f"no EF {fid:04X} in this application")
        return rule

    def select_ef(self, command: CommandApdu, ctx: Context) -> bytes:
        """SELECT EF by its 2-byte FID (``00 A4 02 0C``): it becomes current; what was verified
        stays (§2.1). ``CardError`` 6700 for another data length, 6A82 for an EF this card lacks."""
        ctx.note.action = "select_ef"
        if len(command.data) != 2:
            raise CardError(SW.WRONG_LENGTH, "an EF identifier is two bytes")
        fid = command.data[0] << 8 | command.data[1]
        self.file_rule(ctx, fid)
        ctx.session.ef = fid  # selecting an EF keeps the security status (§2.1)
        ctx.note.pin = self.pin_by_fid.get(fid)
        return b""

    def _ef_for(self, ctx: Context, sfi: int | None) -> FileRule:
        """The EF a READ or VERIFY names: by short EF identifier, or the current EF."""
        if sfi is not None:
            rule = self.file_rule(ctx, sfi)
            ctx.session.ef = sfi
            return rule
        if ctx.session.ef is None:
            raise CardError(SW.COMMAND_NOT_ALLOWED_NO_EF, "no EF is selected")
        return self.file_rule(ctx, ctx.session.ef)

    def _check_access(self, rule: FileRule, ctx: Context) -> None:
        kind = rule.kind
        if kind is _PIN or kind is _PRIVATE_KEY or kind is _BLOCKED:
            raise CardError(SW.COMMAND_INCOMPATIBLE, "a key or PIN EF is never readable")
        if kind is _SECRET:
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "readable by issuer terminals only")
        if rule.opened_by and not (rule.opened_by & ctx.session.verified):
            ctx.note.pin = sorted(rule.opened_by)[0] if len(rule.opened_by) == 1 else None
            opened = ", ".join(sorted(pin.value for pin in rule.opened_by))
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, f"needs a VERIFY of {opened}")

    def read_binary(self, command: CommandApdu, ctx: Context) -> bytes:
        """READ BINARY (§2.2): Le bytes from a 15-bit offset of the current EF, or from offset P2
        of the EF named by a short EF identifier (P1 = 80 + SFI, which becomes current). A read
        past the end is short (9000); an offset at or past it 6B00. ``CardError`` 6700 without
        Le, 6981 for a record, key or PIN EF, 6982 until the EF's PIN is verified, 6986 with no EF
        selected, 6A82 for an EF this card lacks."""
        ctx.note.action = "read_binary"
        if command.p1 & 0x80:  # short EF form: P1 = 80 + SFI, P2 = offset (§2.2)
            if command.p1 & 0x60:
                raise CardError(SW.INCORRECT_P1P2, "bad short EF identifier")
            rule = self._ef_for(ctx, command.p1 & 0x1F)
            offset = command.p2
        else:
            rule = self._ef_for(ctx, None)
            offset = command.p1 << 8 | command.p2  # P1-P2, a 15-bit offset
        if command.le is None:
            raise CardError(SW.WRONG_LENGTH, "READ BINARY needs Le")
        if rule.kind is _RECORD:
            raise CardError(SW.COMMAND_INCOMPATIBLE, "a record EF: use READ RECORD")
        self._check_access(rule, ctx)
        data = ctx.memory.file(self.name, rule.fid)
        if offset >= len(data):
            raise CardError(SW.WRONG_PARAMETERS_OFFSET, "offset beyond the end of the EF")
        return data[offset : offset + command.le]  # a short read at the end is 9000 (JICSAP 6.4.1)

    def read_record(self, command: CommandApdu, ctx: Context) -> bytes:
        """READ RECORD (§2.3): record P1 (from 1) of the current EF (P2 = 04) or of a short EF
        identifier (P2 = SFI << 3 | 04). ``CardError`` 6A81 for multi-record reads (P2 b3-b1 =
        101), 6A86 for other P2 or P1 = 0, 6700 without Le, 6Cxx for a Le shorter than the record,
        6981 for a transparent EF, 6A83 for a record that does not exist."""
        ctx.note.action = "read_record"
        mode, sfi = command.p2 & 0x07, command.p2 >> 3
        if mode == 0x05:
            raise CardError(SW.FUNCTION_NOT_SUPPORTED, "multi-record read is not supported")
        if mode != 0x04 or command.p1 == 0 or sfi == 0x1F:
            raise CardError(SW.INCORRECT_P1P2, "READ RECORD takes P2 = 04 or SFI<<3 | 04")
        rule = self._ef_for(ctx, sfi or None)
        if command.le is None:
            raise CardError(SW.WRONG_LENGTH, "READ RECORD needs Le")
        if rule.kind is not FileKind.RECORD:
            raise CardError(SW.COMMAND_INCOMPATIBLE, "not a record EF")
        self._check_access(rule, ctx)
        records = ctx.memory.records(self.name, rule.fid)
        if command.p1 > len(records):
            raise CardError(SW.RECORD_NOT_FOUND, f"record {command.p1} does not exist")
        record = records[command.p1 - 1]
        if command.le < len(record) and command.le != 256:
            raise CardError(wrong_le_sw(min(len(record), 256)), "Le must be the record's length")
        return record

    # -- PINs ----------------------------------------------------------------------------------

    def _pin_for(self, command: CommandApdu, ctx: Context) -> PinName:
        """The key reference P2 names: 80 = the current EF, 80 + SFI = that EF (§2.4)."""
        if command.p2 == 0x80:
            rule = self._ef_for(ctx, None)
        elif 0x81 <= command.p2 <= 0x9E:
            rule = self.file_rule(ctx, command.p2 & 0x1F)
            ctx.session.ef = rule.fid
        else:
            raise CardError(SW.INCORRECT_P1P2, "P2 must be 80 or 80 + a short EF identifier")
        if rule.kind is _BLOCKED:  # blocked at issuance: 63C0 to a query, else 6984
            if command.ins == 0x20 and not command.data:
                raise CardError(verify_failed(0), "blocked on every card")
            raise CardError(SW.REFERENCE_DATA_NOT_USABLE, "blocked on every card")
        pin = PIN_BY_LOCATION.get((self.name, rule.fid))
        if pin is None:
            raise CardError(SW.COMMAND_INCOMPATIBLE, f"EF {rule.fid:04X} is not a PIN")
        ctx.note.pin = pin
        return pin

    def verify(self, command: CommandApdu, ctx: Context) -> bytes:
        """VERIFY (§2.4, pin-rules.md §2): ``00 20 00 80`` on the current EF or ``00 20 00 8x``
        by SFI. With data: one try, counted on the card before the comparison
        (``CardMemory.verify_pin``); 9000 and the PIN verified, or 63Cx with x tries left (63C0:
        locked), then 6984 for every VERIFY with data, the right value too. Without data: 63Cx,
        nothing spent. ``CardError`` 6A86 for P1 ≠ 00 or another P2, 6981 for an EF that is no PIN,
        6984 for a reference blocked at issuance (63C0 to a query)."""
        ctx.note.action = "verify" if command.data else "query"
        if command.p1 != 0x00:
            raise CardError(SW.INCORRECT_P1P2, "VERIFY takes P1 = 00")
        pin = self._pin_for(command, ctx)
        record = ctx.memory.pin(pin)
        if not command.data:
            # A query spends nothing and reports the tries left, also after a success
            # (OpenSC#959); 63C0 on a locked PIN (card-interface.md §2.4).
            raise CardError(verify_failed(record.remaining), "tries left")
        if record.locked:
            raise CardError(SW.REFERENCE_DATA_NOT_USABLE, "locked: only an issuer reset lifts it")
        if ctx.memory.verify_pin(pin, command.data):
            ctx.session.verified.add(pin)
            return b""
        ctx.session.verified.discard(pin)
        remaining = ctx.memory.pin(pin).remaining
        reason = "wrong value; now locked" if remaining == 0 else "wrong value"
        raise CardError(verify_failed(remaining), reason)

    def change(self, command: CommandApdu, ctx: Context, how: ChangeCommand) -> bytes:
        """CHANGE REFERENCE DATA (``00 24 01 80``) or CHANGE KEY (``80 32 00 80``), whichever
        ``rules.PIN_SPECS`` gives the PIN (§2.5): the new value only, after a VERIFY in this
        session, in the PIN's format; full tries again. ``CardError`` 6A86 for another P1, 6985
        for the other command, 6984 when locked, 6982 before the VERIFY, 6700 without data, 6A80
        for a value of the wrong format."""
        ctx.note.action = "change"
        if (command.cla, command.ins, command.p1) != how.value[:3]:
            raise CardError(SW.INCORRECT_P1P2, "only the new value may be given (P1)")
        pin = self._pin_for(command, ctx)
        spec = PIN_SPECS[pin]
        if spec.change is not how:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "this reference cannot be changed so")
        if ctx.memory.pin(pin).locked:
            raise CardError(SW.REFERENCE_DATA_NOT_USABLE, "locked: only an issuer reset lifts it")
        if pin not in ctx.session.verified:
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "VERIFY the current value first")
        if not command.data:
            raise CardError(SW.WRONG_LENGTH, "no new value")
        try:
            new_value = command.data.decode("ascii")
        except UnicodeDecodeError:
            new_value = ""
        if not spec.format.accepts(new_value):
            raise CardError(
                SW.INCORRECT_DATA, f"the new value must be {spec.format.description_en}"
            )
        ctx.memory.set_pin_value(pin, new_value)
        return b""


def change_reference_data_handler(app: Application, command: CommandApdu, ctx: Context) -> bytes:
    """CHANGE REFERENCE DATA ``00 24 01 80`` (JPKI, text and card-surface APs): ``app.change``."""
    return app.change(command, ctx, ChangeCommand.CHANGE_REFERENCE_DATA)


def change_key_handler(app: Application, command: CommandApdu, ctx: Context) -> bytes:
    """CHANGE KEY ``80 32 00 80`` (住基AP and 共通AP, JICSAP): ``app.change``."""
    return app.change(command, ctx, ChangeCommand.CHANGE_KEY)


def sign_with_ap_key(app: Application, command: CommandApdu, ctx: Context) -> bytes:
    """``80 2A P1 P2 Lc <data> 00``: the AP's own key signs with no credential (text AP 0013,
    券面AP 001A; card-interface.md §2.6) → the 256-byte signature.

    P2 = 00 (the AP's default key, the form the spec saw on a card) or 80 + the key's short EF
    identifier. P1 is a signature scheme 00–05, as for the JPKI keys (``jpki.compute_signature``):
    a client's published claim, AokiApp/jsapdu ``examples/mynacard-e2e/randr.e2e.test.ts`` (its
    authors' hardware test), signs ``80 2A 05 00`` with 32 bytes in the text AP with no VERIFY and
    expects 9000 + 256 bytes. ``CardError``: 6A86 for another P1 or P2, 6A88 when the card has no
    such key, 6700 for no data or a wrong length of the scheme.
    """
    from card_emulator.apps.jpki import compute_signature  # the JPKI AP's signature schemes

    ctx.note.action = "sign"
    fid = AP_SIGNING_KEYS[app.name]
    if command.p2 not in (0x00, 0x80 | fid):
        raise CardError(SW.INCORRECT_P1P2, "the AP key is P2 = 00 or 80 + its short EF identifier")
    if not ctx.memory.has_file(app.name, fid, FileKind.PRIVATE_KEY):
        raise CardError(SW.REFERENCE_DATA_NOT_FOUND, "this card has no AP signing key")
    if not command.data:
        raise CardError(SW.WRONG_LENGTH, "nothing to sign")
    return compute_signature(ctx.memory.card_key(app.name, fid), command.p1, command.data)


def internal_authenticate(app: Application, command: CommandApdu, ctx: Context) -> bytes:
    """INTERNAL AUTHENTICATE ``00 88 00 (80 | SFI) Lc challenge 00`` (card-interface.md §2.7).

    Only 共通AP 0019 answers: PKCS#1 v1.5 over DigestInfo(SHA-256(challenge)), no PIN, 1–255 bytes.
    A key behind a PIN answers 6982 (6985 once it is verified: it signs with 80 2A), the 券面 APs'
    signing keys 6985, an EF that is no key 6981 (myna-card ``card.rs internal_authenticate``).
    """
    ctx.note.action = "internal_authenticate"
    if command.p1 != 0x00:
        raise CardError(SW.INCORRECT_P1P2, "INTERNAL AUTHENTICATE takes P1 = 00")
    if command.p2 == 0x80:
        rule = app._ef_for(ctx, None)
    elif 0x81 <= command.p2 <= 0x9E:
        rule = app.file_rule(ctx, command.p2 & 0x1F)
    else:
        raise CardError(SW.INCORRECT_P1P2, "P2 must be 80 or 80 + a key's short EF identifier")
    if rule.kind is not FileKind.PRIVATE_KEY:
        raise CardError(SW.COMMAND_INCOMPATIBLE, f"EF {rule.fid:04X} is not a key")
    if (app.name, rule.fid) not in INTERNAL_AUTHENTICATION_KEYS:
        if rule.opened_by and not rule.opened_by & ctx.session.verified:
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "the key needs a PIN")
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "this key signs with 80 2A, not 00 88")
    if not 1 <= len(command.data) <= 255:
        raise CardError(SW.WRONG_LENGTH, "a challenge is 1-255 bytes")
    key = ctx.memory.card_key(app.name, rule.fid)  # parsed once per card, shared by clones
    return key.sign(command.data, _PKCS1, _SHA256)


def refuse(sw: int, reason: str) -> Handler:
    """A handler that always answers ``sw`` with ``reason``: an instruction the card knows and
    refuses here (the status words of card-interface.md §2.7)."""

    def handler(app: Application, command: CommandApdu, ctx: Context) -> bytes:
        raise CardError(sw, reason)

    return handler


COMMON_HANDLERS: dict[tuple[int, int], Handler] = {
    (0x00, 0xB0): Application.read_binary,  # the methods are handlers as they are
    (0x00, 0xB2): Application.read_record,
    (0x00, 0x20): Application.verify,
    (0x00, 0x88): internal_authenticate,
    # No public client resets a retry counter by APDU; resets are issuer operations (§10.3).
    (0x00, 0x2C): refuse(SW.INS_NOT_SUPPORTED, "RESET RETRY COUNTER is not offered to users"),
    (0x80, 0x54): refuse(
        SW.SECURITY_STATUS_NOT_SATISFIED, "UNLOCK KEY needs issuer authentication"
    ),
    (0x80, 0xFC): refuse(SW.WRONG_LENGTH, "last-command indicator: smartphone profile only"),
}
