"""Why the card refused, in terms of the client's own history of exchanges.

The card gives each refusal a reason about the command alone ("needs a VERIFY of user_auth"). A
client developer needs more: *which* of its own exchanges verified the PIN and which one cleared it.
:class:`History` follows a stream of exchanges and power events (as a trace records them) and, for
each refusal, writes one line such as::

    the user-authentication PIN was verified at exchange 3 and cleared by the SELECT of the JPKI AP
    at exchange 4; the card clears every verified PIN when an application is selected, even the
    same one (card-interface.md §2.1): VERIFY after the last SELECT of the AP

Rules it relies on (the card's, from ``card_emulator.rules``): a SELECT of any DF by AID, a reset and
a power-off clear every verified PIN (card-interface.md §2.1, §10.2); a wrong VERIFY clears that PIN
(pin-rules.md §2); a PIN without tries answers 6984 even to its correct value (card-interface.md
§2.4). Pure bookkeeping: no I/O, and no PIN value is ever seen (VERIFY data is compared only as a
SHA-256 digest, to notice a command sent twice).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from apdu import StatusWord
from card_emulator.rules import APP_AIDS, FILE_RULE_BY_LOCATION, PIN_SPECS, AppName, PinName
from card_emulator.trace import Exchange

__all__ = ["APP_LABELS", "History", "app_label", "pin_label"]

SW = StatusWord

APP_LABELS: dict[AppName, str] = {
    AppName.JPKI: "the JPKI AP",
    AppName.TEXT: "the text input helper AP",
    AppName.JUKI: "the resident registry AP",
    AppName.SURFACE: "the card-surface AP",
    AppName.COMMON: "the common card AP",
}
_ACTION_NAMES = {
    "read_binary": "READ BINARY",
    "read_record": "READ RECORD",
    "sign": "COMPUTE DIGITAL SIGNATURE",
    "change": "CHANGE REFERENCE DATA",
    "verify": "VERIFY",
    "query": "VERIFY",
}
# Instructions that exist only in some applications: (CLA class, INS) -> the applications.
_APP_ONLY: dict[tuple[int, int], tuple[str, tuple[AppName, ...]]] = {
    (0x00, 0x24): ("CHANGE REFERENCE DATA", (AppName.JPKI, AppName.TEXT, AppName.SURFACE)),
    (0x80, 0x32): ("CHANGE KEY", (AppName.JUKI, AppName.COMMON)),
    (0x80, 0x2A): ("COMPUTE DIGITAL SIGNATURE", (AppName.JPKI, AppName.TEXT, AppName.SURFACE)),
}


def app_label(app: AppName) -> str:
    """``"the JPKI AP"``: an application's English name, with its article (any AppName)."""
    return APP_LABELS.get(app, f"the {app.value} AP")


def pin_label(pin: PinName) -> str:
    """``"the user-authentication PIN"``: the English name of a key reference, with its article."""
    return f"the {PIN_SPECS[pin].name_en}"


@dataclass(slots=True)
class _Clearing:
    how: str  # "the SELECT of the JPKI AP", "a reset", "a wrong entry", ...
    at: str  # "at exchange 4", "after exchange 4"
    select: bool = False


@dataclass(slots=True)
class History:
    """The state a client's exchanges left the card in, as far as the exchanges show it.

    Feed it every exchange (:meth:`exchange`, numbered from 1) and power event (:meth:`event`) in
    order; :meth:`exchange` returns the diagnosis of a refusal, or None when the card accepted.
    """

    exchanges: int = 0
    app: AppName | None = None
    app_selected_at: int | None = None
    session_start: str = "the start of the trace"
    verified: dict[PinName, int] = field(default_factory=dict)
    cleared: dict[PinName, tuple[int, _Clearing]] = field(default_factory=dict)
    wrong: dict[PinName, list[int]] = field(default_factory=dict)
    locked_at: dict[PinName, int] = field(default_factory=dict)
    _previous: bytes = b""

    # -- input -----------------------------------------------------------------------------------

    def event(self, name: str) -> None:
        """A power event between exchanges: ``power_on``, ``power_off``, ``reset``, ``remove``,
        ``insert``, ``torn``. Each ends the card's session (selection and verified PINs)."""
        if name not in ("power_on", "power_off", "reset", "remove", "insert", "torn"):
            return
        what = {
            "power_on": "a power-on",
            "power_off": "a power-off",
            "reset": "a reset",
            "remove": "the card's removal",
            "insert": "the card's insertion",
            "torn": "the power loss",
        }[name]
        where = f"after exchange {self.exchanges}" if self.exchanges else "before exchange 1"
        self._end_session(_Clearing(what, where))
        self.session_start = f"{what} {where}"
        self._previous = b""

    def exchange(self, n: int, exchange: Exchange, *, forced: str | None = None) -> str | None:
        """Take exchange ``n`` into the history; the diagnosis when the card refused it.

        ``forced``: the exchange's answer came from a fault, not from the card (its description).
        """
        self.exchanges = n
        digest = hashlib.sha256(exchange.command).digest()
        repeated, self._previous = digest == self._previous, digest
        if forced is not None:
            return f"not the card's answer: {forced}"
        diagnosis = None if _accepted(exchange) else self._diagnose(n, exchange, repeated)
        self._update(n, exchange)
        return diagnosis

    # -- state ---------------------------------------------------------------------------------

    def _end_session(self, clearing: _Clearing) -> None:
        for pin, at in self.verified.items():
            self.cleared[pin] = (at, clearing)
        self.verified.clear()
        self.app = None
        self.app_selected_at = None

    def _update(self, n: int, ex: Exchange) -> None:
        ok = ex.sw == SW.NO_ERROR
        if ex.action == "select_app" and ok:
            # No application after a successful SELECT by name: the issuer security domain (§1.4).
            label = app_label(ex.app) if ex.app else "the issuer security domain"
            self._end_session(_Clearing(f"the SELECT of {label}", f"at exchange {n}", True))
            self.app, self.app_selected_at = ex.app, n
            self.session_start = f"the SELECT of {label} at exchange {n}"
        elif ex.action == "verify" and ex.pin is not None:
            if ok:
                self.verified[ex.pin] = n
                self.cleared.pop(ex.pin, None)
                self.wrong.pop(ex.pin, None)
                self.locked_at.pop(ex.pin, None)
            elif ex.sw & 0xFFF0 == 0x63C0:
                if ex.pin in self.verified:
                    self.cleared[ex.pin] = (
                        self.verified.pop(ex.pin),
                        _Clearing("a wrong entry", f"at exchange {n}"),
                    )
                self.wrong.setdefault(ex.pin, []).append(n)
                if ex.sw == 0x63C0:
                    self.locked_at[ex.pin] = n
        elif ex.action == "change" and ok and ex.pin is not None:
            self.wrong.pop(ex.pin, None)

    # -- diagnoses -----------------------------------------------------------------------------

    def _diagnose(self, n: int, ex: Exchange, repeated: bool) -> str | None:
        sw = ex.sw
        if sw == SW.SECURITY_STATUS_NOT_SATISFIED:
            return self._not_verified(ex)
        if sw == SW.REFERENCE_DATA_NOT_USABLE and ex.pin is not None:
            return self._locked(ex.pin)
        if sw & 0xFFF0 == 0x63C0 and ex.action == "verify" and ex.pin is not None:
            return self._wrong(n, ex, repeated)
        if sw == SW.FILE_NOT_FOUND:
            return self._not_found(ex)
        if sw == SW.COMMAND_NOT_ALLOWED_NO_EF:
            return self._nothing_selected(ex)
        if sw == SW.INS_NOT_SUPPORTED:
            return self._no_instruction(ex)
        if sw == SW.NO_PRECISE_DIAGNOSIS and not ex.reason:
            return "the emulator failed while answering (a bug, logged with its traceback)"
        if sw == SW.INCORRECT_P1P2 and ex.action == "sign" and ex.app is not AppName.JPKI:
            return (
                "the JPKI keys (EF 0017, 001A) sign in the JPKI AP; in "
                f"{app_label(ex.app) if ex.app else 'this application'} only that AP's own key signs: "
                "80 2A P1 00 with a scheme P1 00-05 (card-interface.md §2.6)"
            )
        if sw in (SW.WRONG_LENGTH, SW.INCORRECT_P1P2) or sw & 0xFF00 == 0x6C00:
            return self._header(ex)
        return None

    def _not_verified(self, ex: Exchange) -> str | None:
        rule = FILE_RULE_BY_LOCATION.get((ex.app, ex.fid)) if ex.app and ex.fid else None
        if ex.pin is not None:
            wanted = [ex.pin]
        elif rule is not None and rule.opened_by:
            wanted = [pin for pin in PinName if pin in rule.opened_by]
        else:
            return None  # an issuer-only EF or a refused instruction: the card's reason says it
        if ex.action == "change":
            what = f"CHANGE needs {pin_label(wanted[0])} verified first"
        else:
            action = _ACTION_NAMES.get(ex.action, ex.action)
            target = f"EF {ex.fid:04X}" if ex.fid is not None else "this EF"
            names = " or ".join(pin_label(p) for p in wanted)
            what = f"{action} of {target} needs a VERIFY of {names}"
        if len(wanted) > 1 and not any(p in self.cleared or p in self.verified for p in wanted):
            return f"{what}; none of them has been verified since {self.session_start}"
        return "; ".join([what, *(self._pin_story(pin) for pin in wanted)])

    def _pin_story(self, pin: PinName) -> str:
        label = pin_label(pin)
        if pin in self.cleared:
            at, how = self.cleared[pin]
            story = f"{label} was verified at exchange {at} and cleared by {how.how} {how.at}"
            if how.select:
                story += (
                    "; the card clears every verified PIN when an application is selected, even "
                    "the same one (card-interface.md §2.1): VERIFY after the last SELECT of the AP"
                )
            return story
        if pin in self.verified:
            return (
                f"{label} was verified at exchange {self.verified[pin]} and no exchange of this "
                "trace cleared it: the card was reset or powered off outside the trace"
            )
        return f"{label} has not been verified since {self.session_start}"

    def _locked(self, pin: PinName) -> str:
        label = pin_label(pin)
        if pin in self.locked_at:
            wrong = self.wrong.get(pin, [])
            entries = ", ".join(str(w) for w in wrong)
            story = f"{label} is locked: its last try went at exchange {self.locked_at[pin]}"
            if len(wrong) > 1:
                story += f" (wrong entries at exchanges {entries})"
        else:
            story = f"{label} was already locked when this trace began"
        return (
            f"{story}; a locked PIN refuses even its correct value, and only an issuer reset "
            "(再設定) lifts the lock (pin-rules.md §2–§3)"
        )

    def _wrong(self, n: int, ex: Exchange, repeated: bool) -> str:
        label = pin_label(ex.pin) if ex.pin else "the PIN"
        tries = ex.sw & 0x0F
        earlier = self.wrong.get(ex.pin, []) if ex.pin else []
        text = f"wrong value for {label}: {tries} {'try' if tries == 1 else 'tries'} left"
        if tries == 0:
            text = f"wrong value for {label}: no tries left, the PIN is now locked"
        if len(earlier) == 1:
            text += f" (an earlier wrong entry at exchange {earlier[0]})"
        elif earlier:
            text += f" (earlier wrong entries at exchanges {', '.join(map(str, earlier))})"
        if repeated:
            text += (
                f"; this VERIFY repeats exchange {n - 1} byte for byte: a client that sends each "
                "APDU twice spends two tries per wrong entry (card-interface.md §15)"
            )
        return text

    def _not_found(self, ex: Exchange) -> str | None:
        command = ex.command
        if ex.action == "select_app":
            aid = command[5:].hex().upper() if len(command) > 5 else ""
            known = ", ".join(f"{app_label(a)} {APP_AIDS[a].hex().upper()}" for a in APP_AIDS)
            return f"no application with AID {aid} on this card; it has {known}"
        if ex.action != "select_ef" or len(command) < 7:
            return None
        fid = int.from_bytes(command[5:7], "big")
        if self.app is None and ex.app is None:
            return f"no application is selected (since {self.session_start}): SELECT an AP by AID"
        here = ex.app or self.app
        homes = [a for (a, f) in FILE_RULE_BY_LOCATION if f == fid and a != here]
        rule = FILE_RULE_BY_LOCATION.get((here, fid)) if here is not None else None
        if rule is not None and not rule.required:
            return (
                f"this card has no EF {fid:04X} ({rule.content_en}): a card issued without "
                "a signing certificate (holder under 15) lacks it (pin-rules.md §1)"
            )
        if homes and here is not None:
            where = " and ".join(app_label(a) for a in homes)
            return (
                f"EF {fid:04X} is in {where}, but the current application is {app_label(here)}"
                + (
                    f" (selected at exchange {self.app_selected_at})"
                    if self.app_selected_at
                    else ""
                )
            )
        return None

    def _nothing_selected(self, ex: Exchange) -> str:
        if ex.app is None:
            return f"no application is selected (since {self.session_start}): SELECT an AP by AID"
        return (
            f"no EF is selected in {app_label(ex.app)} since {self.session_start}: SELECT the EF "
            "(00 A4 02 0C) or name it by its short EF identifier in P1/P2"
        )

    def _no_instruction(self, ex: Exchange) -> str | None:
        if len(ex.command) < 2:
            return None
        key = (ex.command[0] & 0x80, ex.command[1])
        known = _APP_ONLY.get(key)
        if known is None:
            return None
        name, apps = known
        if ex.app in apps:
            return None
        labels = [app_label(a) for a in apps]
        where = " and ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 2 else labels)
        current = app_label(ex.app) if ex.app else "no application"
        return f"{name} exists only in {where}; the current application is {current}"

    def _header(self, ex: Exchange) -> str | None:
        c = ex.command
        if len(c) < 4:
            return f"a command APDU has at least 4 bytes (CLA INS P1 P2); this one has {len(c)}"
        shape = f"CLA {c[0]:02X} INS {c[1]:02X} P1 {c[2]:02X} P2 {c[3]:02X}, {len(c)} bytes"
        return f"{ex.reason} ({shape})" if ex.reason else shape


def _accepted(ex: Exchange) -> bool:
    sw = ex.sw
    return sw == SW.NO_ERROR or sw >> 8 == 0x61 or (ex.action == "query" and sw >> 4 == 0x63C)
