"""The served card's control channel, client side: find the ``mynacard serve`` process serving a card
file and talk to it. The protocol is ``docs/control-protocol.md`` (JSON Lines over a Unix socket).

``open_card(path)`` is the one seam the ``mynacard`` commands use: the local ``Card`` when the file is
free, or, when a ``serve`` process holds it, a :class:`RemoteCard` with the same surface (``transmit``,
observers, ``issuer``...) whose every operation goes through that process, so its PC/SC client sees
the same counters at once.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import json
import os
import socket
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography import x509

from card_emulator.card import Card, Observer, PowerObserver
from card_emulator.errors import CardInUseError, EmulatorError, IssuerError
from card_emulator.issuer import Holder, Issuer
from card_emulator.paths import APP_DIR_NAME
from card_emulator.pin import PinStatus
from card_emulator.rules import AppName, PinName
from card_emulator.trace import Exchange

__all__ = [
    "MAX_LINE",
    "PROTOCOL",
    "PROTOCOL_VERSION",
    "ControlClient",
    "ControlError",
    "NotServedError",
    "RemoteCard",
    "card_socket_path",
    "connect_card",
    "connect_reader",
    "ensure_runtime_dir",
    "exchange_from_json",
    "exchange_to_json",
    "open_card",
    "reader_socket_path",
    "runtime_dir",
]

PROTOCOL = "mynacard-control"
PROTOCOL_VERSION = 1  # incremented on any incompatible change (docs/control-protocol.md)
MAX_LINE = 1 << 20  # bytes in one JSON line, newline included
DEFAULT_TIMEOUT = 30.0  # seconds to wait for one answer (a swap waits for pcscd)


class ControlError(EmulatorError):
    """The serve process refused a request, or could not be talked to. ``code`` is the protocol's
    machine-readable error code (docs/control-protocol.md "Errors")."""

    def __init__(self, message: str, code: str = "failed") -> None:
        super().__init__(message)
        self.code = code


class NotServedError(ControlError):
    """No live ``mynacard serve`` process serves this card file or reader."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "not_served")


# -- where the sockets live ---------------------------------------------------------------------


def runtime_dir() -> Path:
    """``$XDG_RUNTIME_DIR/mynumber-card-emulator`` (XDG Base Directory: the user's private runtime
    directory), or ``<tmp>/mynumber-card-emulator-<uid>`` when it is unset or not absolute."""
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    if xdg and os.path.isabs(xdg) and os.path.isdir(xdg):
        return Path(xdg) / APP_DIR_NAME
    return Path(tempfile.gettempdir()) / f"{APP_DIR_NAME}-{os.getuid()}"


def ensure_runtime_dir() -> Path:
    """Create the runtime directory (mode 0700) and check that only this user can enter it.

    ``ControlError`` if it belongs to another user or others may enter it (someone else could then
    put a socket of theirs where ours is looked for).
    """
    folder = runtime_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError as error:
        raise ControlError(f"cannot create the runtime directory {folder}: {error}") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise ControlError(f"{folder} is not a directory of this user; remove it")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ControlError(f"{folder} is open to other users (mode {info.st_mode & 0o777:o})")
    return folder


def card_socket_path(card: str | os.PathLike[str]) -> Path:
    """The control socket of the server serving the card file ``card`` (named by its real path)."""
    real = os.path.realpath(os.fspath(card))
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return runtime_dir() / f"card-{digest}.sock"


def reader_socket_path(port: int) -> Path:
    """The control socket of the server serving the vpcd reader on TCP ``port``."""
    return runtime_dir() / f"reader-{port}.sock"


# -- the client -----------------------------------------------------------------------------------


class ControlClient:
    """One connection to a serve process. ``call(op, **arguments)`` returns the result object or
    raises :class:`ControlError`. Not thread-safe: one request at a time."""

    def __init__(self, path: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(os.fspath(path))
        except OSError:
            self._sock.close()
            raise
        self._file = self._sock.makefile("rb")
        self._next_id = 1
        self.hello: dict[str, Any] = self._read()
        if self.hello.get("protocol") != PROTOCOL:
            self.close()
            raise ControlError(f"{path}: not a mynacard control socket", "protocol")
        if self.hello.get("version") != PROTOCOL_VERSION:
            self.close()
            raise ControlError(
                f"{path}: control protocol version {self.hello.get('version')}, this mynacard "
                f"speaks {PROTOCOL_VERSION}: use the same version for serve and the commands",
                "unsupported_version",
            )

    def call(self, op: str, **arguments: Any) -> dict[str, Any]:
        """One request of the control protocol (docs/control-protocol.md): ``op`` with its
        arguments as one JSON line, the answer's fields as a dict. ControlError when the serve
        process refuses, times out or goes away."""
        request = {"id": self._next_id, "op": op, **arguments}
        self._next_id += 1
        try:
            self._sock.sendall(json.dumps(request, separators=(",", ":")).encode() + b"\n")
            answer = self._read()
        except TimeoutError:
            raise ControlError(f"the serve process did not answer {op!r} in time") from None
        except OSError as error:
            raise ControlError(f"the serve process closed the channel ({error})") from None
        if answer.get("ok"):
            result = answer.get("result", {})
            return result if isinstance(result, dict) else {"value": result}
        problem = answer.get("error") or {}
        raise ControlError(str(problem.get("message", "refused")), str(problem.get("code", "")))

    def _read(self) -> dict[str, Any]:
        line = self._file.readline(MAX_LINE)
        if not line:
            raise ControlError("the serve process closed the channel")
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ControlError("malformed answer on the control channel", "protocol")
        return data

    def close(self) -> None:
        """Close the connection (the serve process keeps serving)."""
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(OSError):
            self._sock.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect(path: Path, what: str, timeout: float) -> ControlClient:
    try:
        return ControlClient(path, timeout)
    except FileNotFoundError:
        raise NotServedError(f"{what} is not served (no control socket {path})") from None
    except OSError as error:
        if error.errno in (errno.ECONNREFUSED, errno.ENOENT, errno.ENOTSOCK):
            raise NotServedError(f"{what} is not served (stale socket {path})") from None
        raise ControlError(f"cannot reach the server of {what} at {path}: {error}") from None


def connect_card(card: str | os.PathLike[str], timeout: float = DEFAULT_TIMEOUT) -> ControlClient:
    """The control channel of the server serving the card file ``card``; ``NotServedError`` if
    none serves it (a socket left by a killed server counts as none)."""
    return _connect(card_socket_path(card), os.fspath(card), timeout)


def connect_reader(port: int, timeout: float = DEFAULT_TIMEOUT) -> ControlClient:
    """The control channel of the server serving the vpcd reader on ``port``."""
    return _connect(reader_socket_path(port), f"the reader on port {port}", timeout)


# -- exchanges on the wire ------------------------------------------------------------------------


def exchange_to_json(exchange: Exchange) -> dict[str, Any]:
    """The card's reading of one exchange, as the protocol sends it back. The command is not echoed:
    the client has it (and no PIN travels back)."""
    return {
        "response": exchange.response.hex().upper(),
        "sw": f"{exchange.sw:04X}",
        "app": exchange.app.value if exchange.app is not None else None,
        "fid": exchange.fid,
        "pin": exchange.pin.value if exchange.pin is not None else None,
        "tries_left": exchange.tries_left,
        "action": exchange.action,
        "reason": exchange.reason,
    }


def exchange_from_json(data: Mapping[str, Any], command: bytes) -> Exchange:
    """The inverse of :func:`exchange_to_json`, with the ``command`` that was sent."""
    return Exchange(
        command=command,
        response=bytes.fromhex(data["response"]),
        sw=int(data["sw"], 16),
        app=AppName(data["app"]) if data.get("app") else None,
        fid=data.get("fid"),
        pin=PinName(data["pin"]) if data.get("pin") else None,
        tries_left=data.get("tries_left"),
        action=str(data.get("action", "")),
        reason=str(data.get("reason", "")),
    )


# -- the proxy the commands use -----------------------------------------------------------------


class RemoteIssuer(Issuer):
    """``Issuer`` of a served card: each operation is a request to the serve process."""

    def __init__(self, client: ControlClient) -> None:  # no local memory: not Issuer.__init__
        self._client = client
        self._meta: dict[str, str] | None = None
        self._certificates: dict[str, x509.Certificate] | None = None

    def pins(self) -> list[PinName]:
        return [PinName(name) for name in self._client.call("pins")["pins"]]

    def pin_status(self, pin: PinName) -> PinStatus:
        result = self._call_pin("pin_status", pin)
        return PinStatus(pin, int(result["remaining"]), int(result["max_tries"]))

    def reset_pin(self, pin: PinName, new_value: str) -> None:
        self._call_pin("reset_pin", pin, value=new_value)

    def _call_pin(self, op: str, pin: PinName, **arguments: Any) -> dict[str, Any]:
        try:
            return self._client.call(op, pin=pin.value, **arguments)
        except ControlError as error:
            if error.code == "issuer":
                raise IssuerError(str(error)) from None
            raise

    def holder(self) -> Holder:
        return Holder.from_json(self.meta()["holder"])

    @property
    def has_signing_certificate(self) -> bool:
        return "signing" in self.certificates()

    def certificates(self) -> dict[str, x509.Certificate]:
        if self._certificates is None:
            ders = self._client.call("certificates")["certificates"]
            self._certificates = {
                label: x509.load_der_x509_certificate(base64.b64decode(der))
                for label, der in ders.items()
            }
        return dict(self._certificates)

    def meta(self) -> dict[str, str]:
        if self._meta is None:
            self._meta = {str(k): str(v) for k, v in self._client.call("meta")["meta"].items()}
        return dict(self._meta)


class RemoteCard(Card):
    """A card file held by a ``mynacard serve`` process, reached through its control channel.

    It offers the surface the commands use: ``transmit`` (through a contact of its own on the
    served chip: card_emulator.steering.Contact, so the PC/SC client's selection and verified PINs
    are left alone while counters are shared), ``power_on``/``reset`` (of that contact),
    ``add_observer``, ``issuer`` (holder, certificates, PIN status, reset), ``path``, ``close``.
    ``ControlError`` when the serve process goes away mid-command.
    """

    def __init__(self, path: Path, client: ControlClient) -> None:  # not Card.__init__: no store
        self._remote_path = path
        self._client = client
        self._remote_observers: list[Observer] = []
        self._remote_power_observers: list[PowerObserver] = []
        self.created_pins = None
        self.issuer = RemoteIssuer(client)

    @property
    def server(self) -> dict[str, Any]:
        """The serve process's hello: pid, card, reader (docs/control-protocol.md)."""
        server = self._client.hello.get("server", {})
        return server if isinstance(server, dict) else {}

    @property
    def path(self) -> Path | None:
        return self._remote_path

    @property
    def atr(self) -> bytes:
        return bytes.fromhex(self.issuer.meta()["atr"])

    def close(self) -> None:
        self._client.close()

    def clone(self) -> Card:
        """Not over the channel: a served card's copy is ``mynacard ctl PATH snapshot``, or a copy
        of its file. ``ControlError`` always."""
        raise ControlError(
            f"{self._remote_path} is served by another process: it cannot be cloned here "
            "(`mynacard ctl ... snapshot` keeps its state; or copy the card file)",
            "state",
        )

    def power_on(self) -> None:
        self._contact_event("power_on")

    def power_off(self) -> None:
        self._contact_event("power_off")

    def reset(self) -> None:
        self._contact_event("reset")

    def _contact_event(self, name: str) -> None:
        """A fresh session on this command's contact; power observers hear ``name``."""
        self._client.call("contact_reset")
        for observer in list(self._remote_power_observers):
            observer(name)

    def add_observer(self, observer: Observer) -> None:
        self._remote_observers.append(observer)

    def remove_observer(self, observer: Observer) -> None:
        self._remote_observers.remove(observer)

    def add_power_observer(self, observer: PowerObserver) -> None:
        self._remote_power_observers.append(observer)

    def remove_power_observer(self, observer: PowerObserver) -> None:
        self._remote_power_observers.remove(observer)

    def add_pin_write_hook(self, hook: Callable[[PinName], None]) -> None:
        """Not over the channel (tearing is a fault of the served card: `ctl ... fault tear`)."""
        raise ControlError(
            f"{self._remote_path} is served by another process: set a tear fault on it with "
            "`mynacard ctl ... fault tear` instead",
            "state",
        )

    def remove_pin_write_hook(self, hook: Callable[[PinName], None]) -> None:
        raise ControlError("no PIN write hook on a served card", "state")

    def transmit(self, apdu: bytes) -> bytes:
        command = bytes(apdu)
        result = self._client.call("transmit", apdu=command.hex().upper())
        exchange = exchange_from_json(result["exchange"], command)
        for observer in list(self._remote_observers):
            observer(exchange)
        return exchange.response


def open_card(path: str | os.PathLike[str]) -> Card:
    """The card file at ``path``: opened here when it is free, or reached through the ``mynacard
    serve`` process that holds it (a :class:`RemoteCard`). Errors as ``Card.open``
    (``CardFileError``, ``CardInUseError`` when another kind of process holds it)."""
    try:
        return Card.open(path)
    except CardInUseError:
        try:
            client = connect_card(path)
        except NotServedError:
            raise CardInUseError(
                f"{path}: the card is in use by another process (not a `mynacard serve` with a "
                "control channel)"
            ) from None
        return RemoteCard(Path(path), client)
