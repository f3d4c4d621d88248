"""A served card: one card in one vpcd reader, steered through its control channel.

:class:`ServedCard` owns the card, the :class:`~card_emulator.transport.vpcd.VpcdClient` that puts
it in the reader, and the operations of ``docs/control-protocol.md`` (status, insert, remove,
power-cycle, swap, snapshot, restore, the same commands as on a card file), which its
:class:`~card_emulator.transport.control_server.ControlServer` answers. The reader's per-APDU path
is the VpcdClient's alone: nothing here runs per APDU.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from card_emulator.card import Card
from card_emulator.faults import FaultPlan, FaultPlanError, fault_from_json
from card_emulator.rules import PinName
from card_emulator.steering import Contact, Snapshot
from card_emulator.transport.control import (
    PROTOCOL,
    PROTOCOL_VERSION,
    ControlError,
    card_socket_path,
    exchange_to_json,
    reader_socket_path,
)
from card_emulator.transport.control_server import Connection, ControlServer
from card_emulator.transport.rig import Rig
from card_emulator.transport.vpcd import ClientState, StateCallback, VpcdClient

__all__ = ["ServedCard"]

log = logging.getLogger(__name__)

INSERT_TIMEOUT = 10.0  # seconds for pcscd to take a card in after insert/swap/power-cycle
REMOVE_TIMEOUT = 5.0  # seconds for the reader loop to let the card go


class ServedCard:
    """The card at ``path`` served in the vpcd reader ``host:port`` (PC/SC name ``reader``).

    ``run()`` blocks until :meth:`stop`; every control operation may be called from any thread.
    ``on_state`` receives the reader loop's states (see ``VpcdClient``).
    """

    def __init__(
        self,
        card: Card,
        path: Path,
        *,
        host: str,
        port: int,
        reader: str,
        on_state: StateCallback | None = None,
    ) -> None:
        self.card = card
        self.path = path
        self.host = host
        self.port = port
        self.reader = reader
        self._lock = threading.RLock()  # one steering operation at a time
        self._snapshot: Snapshot | None = None
        self._on_state = on_state
        self.client = VpcdClient(card, host=host, port=port, on_state=self._state)
        self.rig = Rig(card, self.client, reader)  # faults and traces, wired only while in use
        self.server = ControlServer(self)

    # -- life cycle ----------------------------------------------------------------------------

    def listen(self) -> None:
        """Open the control sockets (named by card file and by reader). ``ControlError`` with
        code ``busy`` if another live server has one of them."""
        self.server.listen(reader_socket_path(self.port), f"the reader on port {self.port}")
        self.server.listen(card_socket_path(self.path), str(self.path))
        self.server.start()

    def run(self) -> None:
        """Serve until stopped: the vpcd reader loop (``VpcdClient.run``), reconnecting after a
        pcscd restart."""
        self.client.run()

    def stop(self) -> None:
        """End ``run()`` soon (safe from a signal handler)."""
        self.client.stop()

    def close(self) -> None:
        """After ``run()`` returned: sockets removed, trace file closed, card file released."""
        self.server.close()
        self.rig.close()
        self.client.close()
        self.card.close()

    def _state(self, state: ClientState, detail: str) -> None:
        if state is ClientState.DISCONNECTED:
            self.rig.note("disconnect", detail=detail)
        elif state is ClientState.READY:
            self.rig.note("connect")
        if self._on_state is not None:
            self._on_state(state, detail)

    def hello(self) -> dict[str, Any]:
        """The control channel's hello: protocol, version, and this server's pid, card and reader
        (docs/control-protocol.md)."""
        return {
            "protocol": PROTOCOL,
            "version": PROTOCOL_VERSION,
            "server": {
                "pid": os.getpid(),
                "card": str(self.path),
                "reader": {"name": self.reader, "host": self.host, "port": self.port},
            },
        }

    # -- requests ----------------------------------------------------------------------------

    def handle(self, request: dict[str, Any], connection: Connection) -> dict[str, Any]:
        """The result of one request; raises ``ControlError`` (or a library error) to refuse."""
        op = request.get("op")
        handler = _OPERATIONS.get(op) if isinstance(op, str) else None
        if handler is None:
            raise ControlError(f"unknown operation {op!r}", "unknown_op")
        return handler(self, request, connection)

    def _contact(self, connection: Connection) -> Contact:
        contact = connection.contact
        if contact is None or contact.card is not self.card:  # first use, or the card was swapped
            contact = connection.contact = Contact(self.card, connection.captured.append)
        return contact

    def status(self) -> dict[str, Any]:
        """``ctl status``: card, serial, reader, state, inserted, powered, every PIN's counter,
        whether a snapshot is kept, faults and trace. Sends no APDU."""
        with self._lock:
            card = self.card
            pins = {}
            for pin in card.issuer.pins():
                pins[pin.value] = card.issuer.pin_status(pin).as_json()
            return {
                "card": str(self.path),
                "serial": card.issuer.meta().get("serial"),
                "reader": {"name": self.reader, "host": self.host, "port": self.port},
                "state": self.client.state.value,
                "inserted": self.client.inserted,
                "powered": card.powered,
                "pins": pins,
                "snapshot": self._snapshot is not None,
                **self.rig.status(),
                "pid": os.getpid(),
            }

    def remove(self) -> dict[str, Any]:
        """Take the card out of the reader (pcscd sees it at its next poll); ``{"state", "inserted":
        false}``."""
        with self._lock:
            self._take_out()
            return {"state": self.client.state.value, "inserted": False}

    def insert(self, timeout: float = INSERT_TIMEOUT) -> dict[str, Any]:
        """Put the card back and wait up to ``timeout`` seconds for pcscd to take it; ``{"state",
        "inserted": true}``. ``ControlError`` when pcscd does not."""
        with self._lock:
            self._put_in(timeout)
            return {"state": self.client.state.value, "inserted": True}

    def power_cycle(self, timeout: float = INSERT_TIMEOUT) -> dict[str, Any]:
        """Out and back in: the card loses power (selection, verified PINs), the PC/SC client
        sees a removal and an insertion and must connect again; counters stay."""
        with self._lock:
            self._take_out()
            self._put_in(timeout)
            return {"state": self.client.state.value, "inserted": True}

    def swap(self, path: Path, timeout: float = INSERT_TIMEOUT) -> dict[str, Any]:
        """Another card file in the same reader: the old card goes out (and its file is
        released), the new one in. Nothing changes when the new file cannot be opened."""
        with self._lock:
            new = Card.open(path)
            try:
                new_socket = card_socket_path(path)
                if new_socket != card_socket_path(self.path):
                    self.server.listen(new_socket, str(path))
            except BaseException:
                new.close()
                raise
            was_in = self.client.inserted
            self._take_out()
            old, old_path = self.card, self.path
            self.card, self.path = new, path
            self.rig.use(new)
            self._snapshot = None  # it belonged to the other card
            if card_socket_path(old_path) != new_socket:
                self.server.unlisten(card_socket_path(old_path))
            old.close()
            if was_in:
                self._put_in(timeout)
            return {"card": str(path), "serial": new.issuer.meta().get("serial")}

    def snapshot(self) -> dict[str, Any]:
        """Keep every PIN's record now (``steering.Snapshot``), replacing an earlier snapshot;
        ``{"serial", "pins"}``."""
        with self._lock:
            self._snapshot = Snapshot.take(self.card)
            return {"serial": self._snapshot.serial, "pins": len(self._snapshot.pins)}

    def restore(self) -> dict[str, Any]:
        """Put the snapshot's PIN records back (durably) and reset the reader's session;
        ``{"pins"}``. ``ControlError`` (``state``) with no snapshot."""
        with self._lock:
            if self._snapshot is None:
                raise ControlError("no snapshot to restore: take one with `ctl snapshot`", "state")
            self._snapshot.restore(self.card)
            return {"pins": self.status()["pins"]}

    def _take_out(self) -> None:
        if not self.client.inserted:
            return
        self.rig.remove()
        if not self.client.wait_for(ClientState.REMOVED, REMOVE_TIMEOUT):
            raise ControlError("the reader loop did not let the card go", "timeout")

    def _put_in(self, timeout: float) -> None:
        if self.client.inserted and self.client.state is ClientState.READY:
            return
        self.rig.insert()
        if not self.client.wait_for(ClientState.READY, timeout):
            raise ControlError(
                f"the card is back in, but pcscd has not taken it after {timeout:g} s "
                f"(state: {self.client.state.value}; is pcscd running?)",
                "timeout",
            )


# -- the operations, by name (docs/control-protocol.md) ------------------------------------------

Operation = Callable[[ServedCard, dict[str, Any], Connection], dict[str, Any]]


def _pin_argument(request: dict[str, Any]) -> PinName:
    try:
        return PinName(request["pin"])
    except (KeyError, ValueError):
        names = ", ".join(pin.value for pin in PinName)
        raise ControlError(f"'pin' must be one of {names}", "bad_request") from None


def _text_argument(request: dict[str, Any], name: str) -> str:
    value = request.get(name)
    if not isinstance(value, str) or not value:
        raise ControlError(f"{name!r} must be a non-empty string", "bad_request")
    return value


def _timeout_argument(request: dict[str, Any]) -> float:
    value = request.get("timeout", INSERT_TIMEOUT)
    if not isinstance(value, int | float) or not 0 < value <= 300:
        raise ControlError("'timeout' must be seconds, 0 < timeout <= 300", "bad_request")
    return float(value)


def _transmit(served: ServedCard, request: dict[str, Any], conn: Connection) -> dict[str, Any]:
    try:
        apdu = bytes.fromhex(_text_argument(request, "apdu"))
    except ValueError:
        raise ControlError("'apdu' must be hexadecimal", "bad_request") from None
    contact = served._contact(conn)
    conn.captured.clear()
    response = contact.transmit(apdu)
    if not conn.captured:  # the card answered without notifying (a closed card): still an answer
        raise ControlError("the card did not answer (closed?)", "failed")
    exchange = conn.captured[-1]
    conn.captured.clear()
    return {"response": response.hex().upper(), "exchange": exchange_to_json(exchange)}


def _reset_pin(served: ServedCard, request: dict[str, Any], conn: Connection) -> dict[str, Any]:
    pin = _pin_argument(request)
    value = request.get("value")
    if not isinstance(value, str):
        raise ControlError("'value' must be a string", "bad_request")
    served._contact(conn).reset_pin(pin, value)
    state = served.card.issuer.pin_status(pin)
    return {"pin": pin.value, "remaining": state.remaining, "max_tries": state.max_tries}


def _pin_status(served: ServedCard, request: dict[str, Any], conn: Connection) -> dict[str, Any]:
    return served.card.issuer.pin_status(_pin_argument(request)).as_json()


def _certificates(served: ServedCard, _request: dict[str, Any], _c: Connection) -> dict[str, Any]:
    return {
        "certificates": {
            label: base64.b64encode(cert.public_bytes(Encoding.DER)).decode()
            for label, cert in served.card.issuer.certificates().items()
        }
    }


def _contact_reset(
    served: ServedCard, _request: dict[str, Any], conn: Connection
) -> dict[str, Any]:
    served._contact(conn).power_on()
    return {}


def _fault(served: ServedCard, request: dict[str, Any], _c: Connection) -> dict[str, Any]:
    try:
        fault = fault_from_json(request.get("fault") or {})
    except FaultPlanError as error:
        raise ControlError(str(error), "bad_request") from None
    return {"faults": served.rig.add_fault(fault)}


def _faults(served: ServedCard, request: dict[str, Any], _c: Connection) -> dict[str, Any]:
    try:
        plan = FaultPlan.from_json(request.get("plan") or {})
    except FaultPlanError as error:
        raise ControlError(str(error), "bad_request") from None
    return {"faults": served.rig.set_plan(plan)}


def _trace_start(served: ServedCard, request: dict[str, Any], _c: Connection) -> dict[str, Any]:
    path = Path(_text_argument(request, "path")).expanduser().absolute()
    try:
        served.rig.trace_start(path)
    except ValueError as error:
        raise ControlError(str(error), "state") from None
    except OSError as error:
        message = f"cannot write the trace to {path}: {error.strerror}"
        raise ControlError(message, "bad_request") from None
    return {"path": str(path)}


def _trace_stop(served: ServedCard, _request: dict[str, Any], _c: Connection) -> dict[str, Any]:
    try:
        return served.rig.trace_stop()
    except ValueError as error:
        raise ControlError(str(error), "state") from None


def _clear(served: ServedCard, _request: dict[str, Any], _c: Connection) -> dict[str, Any]:
    served.rig.clear()
    return {"faults": None}


def _swap(served: ServedCard, request: dict[str, Any], _c: Connection) -> dict[str, Any]:
    path = Path(_text_argument(request, "path")).expanduser().absolute()
    return served.swap(path, _timeout_argument(request))


_OPERATIONS: dict[str, Operation] = {
    "status": lambda served, _r, _c: served.status(),
    "pins": lambda served, _r, _c: {"pins": [pin.value for pin in served.card.issuer.pins()]},
    "pin_status": _pin_status,
    "reset_pin": _reset_pin,
    "meta": lambda served, _r, _c: {"meta": served.card.issuer.meta()},
    "certificates": _certificates,
    "transmit": _transmit,
    "contact_reset": _contact_reset,
    "insert": lambda served, r, _c: served.insert(_timeout_argument(r)),
    "remove": lambda served, _r, _c: served.remove(),
    "power_cycle": lambda served, r, _c: served.power_cycle(_timeout_argument(r)),
    "swap": _swap,
    "snapshot": lambda served, _r, _c: served.snapshot(),
    "restore": lambda served, _r, _c: served.restore(),
    "fault": _fault,
    "faults": _faults,
    "clear": _clear,
    "trace_start": _trace_start,
    "trace_stop": _trace_stop,
}
