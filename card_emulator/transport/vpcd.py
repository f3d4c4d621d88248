"""The card side of vsmartcard's vpcd protocol: the card is the TCP client of pcscd's vpcd driver.

``VpcdClient`` connects a card to vpcd and serves it until ``stop()``, with hot-plug
(``remove``/``insert``) and the states it reports. The wire protocol, sans-I/O (``VpcdParser``,
``frame``, the events, the reader numbering), is ``transport.vpcd_wire``; getting the card into
the reader (the interruptible connect, the wake-up socket, ``ClientState``, when pcscd has taken
the card in) is ``transport.vpcd_link``. This module re-exports their public names, so
``from card_emulator.transport.vpcd import ...`` stays the one import. Wire facts: pcsc-vpcd.md §2.
Its ~410 lines are one class, the serving loop and the hot-plug calls that interrupt it, which
share its flags and its lock (DEVELOPERS.md: a module past ~400 lines says why).
"""

from __future__ import annotations

import contextlib
import logging
import math
import select
import socket
import sys
import threading
import time
from collections.abc import Callable

from apdu.notation import redact_command
from card_emulator.transport.base import CardLike
from card_emulator.transport.vpcd_link import (
    ClientState,
    Insertion,
    connect,
    drain,
    wait_readable,
    why_waiting,
)
from card_emulator.transport.vpcd_ports import DEFAULT_HOST, DEFAULT_PORT
from card_emulator.transport.vpcd_wire import (
    MAX_PAYLOAD,
    Apdu,
    Control,
    GetAtr,
    PowerOff,
    PowerOn,
    Reset,
    Unknown,
    VpcdEvent,
    VpcdParser,
    decode,
    frame,
    port_for_reader,
    reader_name,
)

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "MAX_PAYLOAD",
    "Apdu",
    "ClientState",
    "Control",
    "GetAtr",
    "PowerOff",
    "PowerOn",
    "Reset",
    "Unknown",
    "VpcdClient",
    "VpcdEvent",
    "VpcdParser",
    "frame",
    "port_for_reader",
    "reader_name",
]

log = logging.getLogger(__name__)

# A reader that already holds a card keeps a new one in the kernel's backlog, silent (§2); an idle
# one is polled by pcscd about every 400 ms. This long without a first message means "busy".
BUSY_AFTER = 3.0  # seconds
# A removed card stays out at least this long, re-inserted or not: pcscd polls every ~400 ms (§2),
# and must see the reader empty once to report the removal and take the new card in.
REMOVAL_HOLD = 1.0  # seconds

# Linux re-arms delayed-ACK suppression only until the next recv: set it after every recv (§2 trap).
_TCP_QUICKACK: int | None = (
    getattr(socket, "TCP_QUICKACK", 12) if sys.platform.startswith("linux") else None
)
_IPPROTO_TCP = socket.IPPROTO_TCP
_RECV_SIZE = MAX_PAYLOAD + 2  # one recv takes whatever is there, up to a whole message
_SW_EXECUTION_ERROR = bytes.fromhex("6F00")  # ISO 7816-4: no precise diagnosis


StateCallback = Callable[[ClientState, str], None]


class VpcdClient:
    """Serve one card to one vpcd reader until :meth:`stop`.

    ``run()`` blocks; ``stop()``, ``remove()`` and ``insert()`` may be called from any thread or
    from a signal handler (they set a flag, write one byte to a wake-up socket and, for stop and
    remove, shut the reading side of the connection being served, which ends a blocked
    ``recv``). A closed socket is a removed card, a new connection an inserted one (§2).
    """

    def __init__(
        self,
        card: CardLike,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        on_state: StateCallback | None = None,
        retry_initial: float = 0.05,
        retry_max: float = 1.0,
        busy_after: float = BUSY_AFTER,
        removal_hold: float = REMOVAL_HOLD,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self._on_state = on_state
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._busy_after = busy_after
        self._removal_hold = removal_hold
        self._stopping = False
        self._inserted = True
        self._removals = 0  # remove() calls: a removal and a re-insertion at once still close
        self._serving_removals = 0  # ... the connection being served (seen by _serve)
        # The connection being served, for stop()/remove() to interrupt its blocking recv; the
        # lock keeps them from shutting down a descriptor that run() has closed (and the system
        # may have given to another socket). Reentrant: a signal handler may run inside run().
        self._serving: socket.socket | None = None
        self._serving_lock = threading.RLock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._state = ClientState.IDLE
        self._state_changed = threading.Condition()

    # --- control, from any thread or a signal handler ------------------------------------------

    def stop(self) -> None:
        """End ``run()`` soon; the card is powered off."""
        self._stopping = True
        self._wake()
        self._interrupt()

    def remove(self) -> None:
        """Take the card out of the reader (close the socket) until :meth:`insert`. A command
        being answered when it is called gets no answer (the card left in the middle of it)."""
        self._inserted = False
        self._removals += 1
        self._wake()
        self._interrupt()

    def insert(self) -> None:
        """Put the card back (connect again)."""
        self._inserted = True
        self._wake()

    @property
    def inserted(self) -> bool:
        """False between :meth:`remove` and :meth:`insert`."""
        return self._inserted

    @property
    def wakeup_fd(self) -> int:
        """For ``signal.set_wakeup_fd``: a signal that lands just before ``run()`` blocks in
        ``poll`` (connecting, waiting to be taken in, removed) would otherwise wait for the next
        message. Once the card is in, ``run()`` blocks in ``recv``, which a signal interrupts (its
        handler's :meth:`stop` or :meth:`remove` then ends the read); one landing in the few
        instructions just before that ``recv`` is handled at vpcd's next message (pcscd polls
        about every 400 ms, §2)."""
        return self._wake_w.fileno()

    @property
    def state(self) -> ClientState:
        return self._state

    def wait_for(self, state: ClientState, timeout: float | None = None) -> bool:
        """Block until the client reports ``state`` (not from a signal handler)."""
        with self._state_changed:
            return self._state_changed.wait_for(lambda: self._state is state, timeout)

    def close(self) -> None:
        """Release the wake-up sockets (after ``run()`` has returned)."""
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> VpcdClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the loop --------------------------------------------------------------------------------

    def run(self) -> None:
        """Connect, serve, reconnect after EOF or refusal, until :meth:`stop`."""
        delay = self._retry_initial
        waiting_reported = False
        try:
            while not self._stopping:
                self._drain_wake()
                if not self._inserted:
                    self._set_state(ClientState.REMOVED, "card removed")
                    self._wait_wake(None)
                    continue
                try:
                    sock = self._open_socket(self.host, self.port)
                except InterruptedError:
                    continue
                except OSError as exc:
                    if isinstance(exc, TimeoutError):
                        self._set_state(ClientState.BUSY, why_waiting(self.host, self.port, exc))
                    elif not waiting_reported:
                        self._set_state(ClientState.WAITING, why_waiting(self.host, self.port, exc))
                        waiting_reported = True
                    self._wait_wake(delay)
                    delay = min(delay * 2, self._retry_max)
                    continue
                delay = self._retry_initial
                waiting_reported = False
                try:
                    with self._serving_lock:
                        self._serving = sock
                    eof = self._serve(sock)
                finally:
                    with self._serving_lock:
                        self._serving = None
                        sock.close()
                    self.card.power_off()  # a card out of the reader has no power
                if self._stopping:
                    break
                if eof:
                    self._set_state(ClientState.DISCONNECTED, "vpcd closed the connection")
                    self._wait_wake(self._retry_initial)
                else:
                    self._set_state(ClientState.REMOVED, "card removed")
                    self._stay_out(time.monotonic() + self._removal_hold)
        finally:
            self._set_state(ClientState.STOPPED, "stopped")

    def _stay_out(self, until: float) -> None:
        """Out of the reader until ``until`` even when inserted again at once: pcscd must see the
        card absent at one of its polls, or a removal and a re-insertion between two polls are
        invisible to it (the reader would stay "no card" for its clients)."""
        while not self._stopping:
            left = until - time.monotonic()
            if left <= 0:
                return
            self._wait_wake(left)
            self._drain_wake()

    def _open_socket(self, host: str, port: int) -> socket.socket:
        """Connect to vpcd (``vpcd_link.connect``); stop()/remove() interrupt the wait. A hook
        for tests (a socket that counts its calls)."""
        return connect(host, port, wake=self._wake_r, interrupted=self._interrupted)

    def _interrupted(self) -> bool:
        return self._stopping or not self._inserted

    def _serve(self, sock: socket.socket) -> bool:
        """Answer vpcd until EOF (True), or stop/remove (False).

        Until pcscd has taken the card in, each read waits in ``poll`` beside the wake-up socket
        (with a deadline: a silent vpcd means a busy reader). After that, the path of one message
        is kept as short as the floor's (issue 10; ``benchmarks/bench_pcsc.py`` measures it): a
        blocking ``recv`` of whatever is there (stop/remove end it by shutting the socket's
        reading side), QUICKACK re-armed (§2 trap), the payloads cut out and, for an APDU, the
        card's answer framed and sent. No event objects, and no logging call unless DEBUG is on.
        """
        self._set_state(ClientState.CONNECTED, f"connected to {self.host}:{self.port}")
        parser = VpcdParser()
        seen: Insertion | None = Insertion()  # None once pcscd has taken the card in
        silent_until: float | None = time.monotonic() + self._busy_after  # until vpcd first talks
        removals = self._serving_removals = self._removals
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        sock_fd = sock.fileno()
        recv, setsockopt, sendall = sock.recv, sock.setsockopt, sock.sendall
        while True:
            if self._stopping or not self._inserted or self._removals != removals:
                return False
            if seen is not None:  # the card is being taken in: wait beside the wake-up socket
                if silent_until is None:
                    ready = poller.poll()
                else:
                    left = silent_until - time.monotonic()
                    ready = poller.poll(max(math.ceil(left * 1000), 0))
                    if not ready:
                        if left <= 0:
                            where = f"{self.host}:{self.port}"
                            self._set_state(
                                ClientState.BUSY,
                                f"vpcd at {where} has not taken the card in "
                                f"{self._busy_after:g} s: another card is in this reader",
                            )
                            silent_until = None
                        continue
                if len(ready) != 1 or ready[0][0] != sock_fd:
                    self._drain_wake()  # stop/remove/insert (checked above), or a signal
                    continue
            try:
                data = recv(_RECV_SIZE)
            except OSError as exc:
                log.warning("vpcd connection failed: %s", exc)
                return True
            if _TCP_QUICKACK is not None:
                try:  # noqa: SIM105 (not contextlib.suppress: this runs twice an APDU)
                    setsockopt(_IPPROTO_TCP, _TCP_QUICKACK, 1)
                except OSError:
                    pass
            if not data:  # vpcd closed the connection, or stop/remove shut it
                return not (self._stopping or self._removals != removals)
            silent_until = None
            for payload in parser.payloads(data):
                if seen is None and len(payload) > 1:  # an APDU to a card in use: the short path
                    reply = self._answer(payload)
                else:
                    event = decode(payload)
                    reply = self._handle(event)
                if self._removals != removals:
                    return False  # pulled out while answering: no answer, the socket closes
                if reply is not None:
                    try:
                        sendall(reply)
                    except OSError as exc:
                        log.warning("vpcd connection failed: %s", exc)
                        return True
                if seen is not None and seen.complete_after(event):
                    seen = None
                    self._set_state(ClientState.READY, f"pcscd sees the card at port {self.port}")

    def _handle(self, event: VpcdEvent) -> bytes | None:
        """The reply (a whole frame) to one event, or None. Never raises for a card's fault."""
        try:
            match event:
                case GetAtr():
                    return frame(self.card.atr)
                case Apdu(data):
                    return self._answer(data)
                case PowerOn():
                    log.debug("power on")
                    self.card.power_on()
                case PowerOff():
                    log.debug("power off")
                    self.card.power_off()
                case Reset():
                    log.debug("reset")
                    self.card.reset()
                case Unknown(payload):
                    log.warning("ignoring undefined vpcd message %s", payload.hex().upper())
        except Exception:
            return self._failed(event)
        return None

    def _answer(self, command: bytes) -> bytes | None:
        """The R-APDU to one C-APDU, framed; None when the card was pulled out meanwhile."""
        try:
            response = self.card.transmit(command)
        except Exception:
            return self._failed(Apdu(command))
        if log.isEnabledFor(logging.DEBUG):
            # Never the PIN: VERIFY/CHANGE data are redacted (COMMON.md, security habits).
            log.debug(
                "C: %s  R: %d bytes, SW %s",
                redact_command(command),
                max(len(response) - 2, 0),
                response[-2:].hex().upper(),
            )
        size = len(response)
        if size > MAX_PAYLOAD:
            log.error("response of %d bytes does not fit a vpcd frame", size)
            return frame(_SW_EXECUTION_ERROR)
        return size.to_bytes(2, "big") + response

    def _failed(self, event: VpcdEvent) -> bytes | None:
        """After the card raised on ``event``: a bug, or a removal in the middle of it."""
        if self._removals != self._serving_removals:
            return None  # the card was pulled out (a test's fault) in the middle of it
        # A bug in the card must not take the reader down (architecture.md "Shape of the card").
        log.exception("card failed on %s", type(event).__name__)
        if isinstance(event, Apdu):
            return frame(_SW_EXECUTION_ERROR)
        return None

    # --- wake-up plumbing ------------------------------------------------------------------------

    def _wake(self) -> None:
        # Safe in a signal handler: no lock, a non-blocking send that may be dropped when full.
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _interrupt(self) -> None:
        """End a ``recv`` blocked on the connection being served (it returns b"")."""
        with self._serving_lock:
            sock = self._serving
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RD)

    def _drain_wake(self) -> None:
        drain(self._wake_r)

    def _wait_wake(self, timeout: float | None) -> None:
        wait_readable(self._wake_r, timeout)

    def _set_state(self, state: ClientState, detail: str) -> None:
        if state is self._state and state in (ClientState.WAITING, ClientState.REMOVED):
            return
        log.info("%s: %s", state.value, detail)
        with self._state_changed:
            self._state = state
            self._state_changed.notify_all()
        if self._on_state is not None:
            self._on_state(state, detail)
