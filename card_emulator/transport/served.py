"""A served card: one card in one vpcd reader, steered through its control channel.

:class:`ServedCard` owns the card, the :class:`~card_emulator.transport.vpcd.VpcdClient` that puts
it in the reader, and the operations of ``docs/control-protocol.md`` (status, insert, remove,
power-cycle, swap, snapshot, restore, the same commands as on a card file). :class:`ControlServer`
listens on the Unix sockets (mode 0600, in the user's runtime directory) and answers JSON lines,
one thread per connection. The reader's per-APDU path is the VpcdClient's alone: nothing here runs
per APDU.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from card_emulator.card import Card
from card_emulator.errors import CardFileError, EmulatorError, IssuerError
from card_emulator.rules import PinName
from card_emulator.steering import Contact, Snapshot
from card_emulator.trace import Exchange
from card_emulator.transport.control import (
    MAX_LINE,
    PROTOCOL,
    PROTOCOL_VERSION,
    ControlClient,
    ControlError,
    card_socket_path,
    ensure_runtime_dir,
    exchange_to_json,
    reader_socket_path,
)
from card_emulator.transport.vpcd import ClientState, StateCallback, VpcdClient

__all__ = ["ControlServer", "ServedCard"]

log = logging.getLogger(__name__)

INSERT_TIMEOUT = 10.0  # seconds for pcscd to take a card in after insert/swap/power-cycle
REMOVE_TIMEOUT = 5.0  # seconds for the reader loop to let the card go


@dataclass
class _Connection:
    """One control connection: its own contact on the chip (a private session)."""

    contact: Contact | None = None
    captured: list[Exchange] = field(default_factory=list)


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
        self.server = ControlServer(self)

    # -- life cycle ----------------------------------------------------------------------------

    def listen(self) -> None:
        """Open the control sockets (named by card file and by reader). ``ControlError`` with
        code ``busy`` if another live server has one of them."""
        self.server.listen(reader_socket_path(self.port), f"the reader on port {self.port}")
        self.server.listen(card_socket_path(self.path), str(self.path))
        self.server.start()

    def run(self) -> None:
        self.client.run()

    def stop(self) -> None:
        """End ``run()`` soon (safe from a signal handler)."""
        self.client.stop()

    def close(self) -> None:
        """After ``run()`` returned: sockets removed, card file released."""
        self.server.close()
        self.client.close()
        self.card.close()

    def _state(self, state: ClientState, detail: str) -> None:
        if self._on_state is not None:
            self._on_state(state, detail)

    def hello(self) -> dict[str, Any]:
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

    def handle(self, request: dict[str, Any], connection: _Connection) -> dict[str, Any]:
        """The result of one request; raises ``ControlError`` (or a library error) to refuse."""
        op = request.get("op")
        handler = _OPERATIONS.get(op) if isinstance(op, str) else None
        if handler is None:
            raise ControlError(f"unknown operation {op!r}", "unknown_op")
        return handler(self, request, connection)

    def _contact(self, connection: _Connection) -> Contact:
        contact = connection.contact
        if contact is None or contact.card is not self.card:  # first use, or the card was swapped
            contact = connection.contact = Contact(self.card, connection.captured.append)
        return contact

    def status(self) -> dict[str, Any]:
        with self._lock:
            card = self.card
            pins = {}
            for pin in card.issuer.pins():
                state = card.issuer.pin_status(pin)
                pins[pin.value] = {
                    "remaining": state.remaining,
                    "max_tries": state.max_tries,
                    "locked": state.locked,
                }
            return {
                "card": str(self.path),
                "serial": card.issuer.meta().get("serial"),
                "reader": {"name": self.reader, "host": self.host, "port": self.port},
                "state": self.client.state.value,
                "inserted": self.client.inserted,
                "powered": card._powered,
                "pins": pins,
                "snapshot": self._snapshot is not None,
                "pid": os.getpid(),
            }

    def remove(self) -> dict[str, Any]:
        with self._lock:
            self._take_out()
            return {"state": self.client.state.value, "inserted": False}

    def insert(self, timeout: float = INSERT_TIMEOUT) -> dict[str, Any]:
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
            self.card, self.path, self.client.card = new, path, new
            self._snapshot = None  # it belonged to the other card
            if card_socket_path(old_path) != new_socket:
                self.server.unlisten(card_socket_path(old_path))
            old.close()
            if was_in:
                self._put_in(timeout)
            return {"card": str(path), "serial": new.issuer.meta().get("serial")}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            self._snapshot = Snapshot.take(self.card)
            return {"serial": self._snapshot.serial, "pins": len(self._snapshot.pins)}

    def restore(self) -> dict[str, Any]:
        with self._lock:
            if self._snapshot is None:
                raise ControlError("no snapshot to restore: take one with `ctl snapshot`", "state")
            self._snapshot.restore(self.card)
            return {"pins": self.status()["pins"]}

    def _take_out(self) -> None:
        if not self.client.inserted:
            return
        self.client.remove()
        if not self.client.wait_for(ClientState.REMOVED, REMOVE_TIMEOUT):
            raise ControlError("the reader loop did not let the card go", "timeout")

    def _put_in(self, timeout: float) -> None:
        if self.client.inserted and self.client.state is ClientState.READY:
            return
        self.client.insert()
        if not self.client.wait_for(ClientState.READY, timeout):
            raise ControlError(
                f"the card is back in, but pcscd has not taken it after {timeout:g} s "
                f"(state: {self.client.state.value}; is pcscd running?)",
                "timeout",
            )


# -- the operations, by name (docs/control-protocol.md) ------------------------------------------

Operation = Callable[[ServedCard, dict[str, Any], _Connection], dict[str, Any]]


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


def _transmit(served: ServedCard, request: dict[str, Any], conn: _Connection) -> dict[str, Any]:
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


def _reset_pin(served: ServedCard, request: dict[str, Any], conn: _Connection) -> dict[str, Any]:
    pin = _pin_argument(request)
    value = request.get("value")
    if not isinstance(value, str):
        raise ControlError("'value' must be a string", "bad_request")
    served._contact(conn).reset_pin(pin, value)
    state = served.card.issuer.pin_status(pin)
    return {"pin": pin.value, "remaining": state.remaining, "max_tries": state.max_tries}


def _pin_status(served: ServedCard, request: dict[str, Any], conn: _Connection) -> dict[str, Any]:
    state = served.card.issuer.pin_status(_pin_argument(request))
    return {"remaining": state.remaining, "max_tries": state.max_tries, "locked": state.locked}


def _certificates(served: ServedCard, _request: dict[str, Any], _c: _Connection) -> dict[str, Any]:
    return {
        "certificates": {
            label: base64.b64encode(cert.public_bytes(Encoding.DER)).decode()
            for label, cert in served.card.issuer.certificates().items()
        }
    }


def _contact_reset(
    served: ServedCard, _request: dict[str, Any], conn: _Connection
) -> dict[str, Any]:
    served._contact(conn).power_on()
    return {}


def _swap(served: ServedCard, request: dict[str, Any], _c: _Connection) -> dict[str, Any]:
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
}


# -- the socket server ----------------------------------------------------------------------------


class ControlServer:
    """Listens on Unix sockets and answers each connection's JSON lines in a thread of its own.

    Written on the standard library's sockets and selectors rather than ``socketserver``: one
    server must listen on several paths and add or drop one while running (a swap renames the
    card's socket), which ``socketserver`` does not do.
    """

    def __init__(self, served: ServedCard) -> None:
        self._served = served
        self._selector = selectors.DefaultSelector()
        self._listening: dict[Path, socket.socket] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread: threading.Thread | None = None
        self._closing = False
        self._guard = threading.Lock()

    def listen(self, path: Path, what: str) -> None:
        """Listen at ``path`` (mode 0600). ``ControlError`` ``busy`` when a live server is there;
        a socket left by a killed server is replaced."""
        ensure_runtime_dir()
        if path.exists() or path.is_symlink():
            try:
                with ControlClient(path, timeout=2.0) as other:
                    server = other.hello.get("server", {})
                raise ControlError(
                    f"{what} is already served by process {server.get('pid', '?')} "
                    f"(card {server.get('card', '?')}, reader {server.get('reader', {}).get('name', '?')})",
                    "busy",
                )
            except ControlError as error:
                if error.code == "busy":
                    raise
            except OSError:
                pass
            path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_mask = os.umask(0o177)  # created 0600: only this user may connect
        try:
            sock.bind(os.fspath(path))
        except OSError as error:
            sock.close()
            raise ControlError(f"cannot create the control socket {path}: {error}") from None
        finally:
            os.umask(old_mask)
        os.chmod(path, 0o600)
        sock.listen(16)
        sock.setblocking(False)
        with self._guard:
            self._listening[path] = sock
            self._selector.register(sock, selectors.EVENT_READ, path)
        self._wake()

    def unlisten(self, path: Path) -> None:
        with self._guard:
            sock = self._listening.pop(path, None)
            if sock is not None:
                self._selector.unregister(sock)
        if sock is not None:
            sock.close()
            path.unlink(missing_ok=True)

    @property
    def paths(self) -> list[Path]:
        return list(self._listening)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._accept_loop, name="control", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closing = True
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for path in list(self._listening):
            self.unlisten(path)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _accept_loop(self) -> None:
        while not self._closing:
            for key, _ in self._selector.select():
                if key.fileobj is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                listener = key.fileobj
                assert isinstance(listener, socket.socket)
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                threading.Thread(
                    target=self._serve_connection, args=(conn,), name="control-conn", daemon=True
                ).start()

    def _serve_connection(self, conn: socket.socket) -> None:
        with conn:
            conn.setblocking(True)
            if not _same_user(conn):
                log.warning("control connection from another user refused")
                return
            stream = conn.makefile("rb")
            state = _Connection()
            try:
                conn.sendall(_line(self._served.hello()))
                while True:
                    line = stream.readline(MAX_LINE)
                    if not line:
                        return
                    conn.sendall(_line(self._answer(line, state)))
            except OSError:
                return
            finally:
                stream.close()

    def _answer(self, line: bytes, state: _Connection) -> dict[str, Any]:
        request_id: Any = None
        try:
            if not line.endswith(b"\n"):
                raise ControlError(f"request longer than {MAX_LINE} bytes", "bad_request")
            try:
                request = json.loads(line)
            except ValueError:
                raise ControlError("not a JSON line", "bad_request") from None
            if not isinstance(request, dict):
                raise ControlError("a request is a JSON object", "bad_request")
            request_id = request.get("id")
            log.debug("control request %s", request.get("op"))  # never the arguments (PINs)
            started = time.perf_counter()
            result = self._served.handle(request, state)
            log.debug("control %s answered in %.1f ms", request.get("op"),
                      (time.perf_counter() - started) * 1000)  # fmt: skip
            return {"id": request_id, "ok": True, "result": result}
        except ControlError as error:
            return _error(request_id, error.code, str(error))
        except IssuerError as error:
            return _error(request_id, "issuer", str(error))
        except CardFileError as error:
            return _error(request_id, "card_file", str(error))
        except EmulatorError as error:
            return _error(request_id, "failed", str(error))
        except Exception as error:  # a bug must not take the server down
            log.exception("control request failed")
            return _error(request_id, "internal", f"{type(error).__name__}: {error}")


def _error(request_id: Any, code: str, message: str) -> dict[str, Any]:
    return {"id": request_id, "ok": False, "error": {"code": code, "message": message}}


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _same_user(conn: socket.socket) -> bool:
    """SO_PEERCRED (Linux): only this user (or root) may steer the card. The socket's mode 0600
    already says so; this is the second lock on the door."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    raw = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return uid in (os.getuid(), 0)
