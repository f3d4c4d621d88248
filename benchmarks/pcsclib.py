"""The PC/SC benchmarks' equipment: cards in vpcd readers, each in its own process, and a client.

Three kinds of card sit in vpcd readers side by side, each a process of its own (as a served card
is), all answering the same APDUs with the same bytes:

* **served**: ``mynacard serve FILE --reader K``, the product as a user runs it;
* **floor**: ``pcsclib.py floor PORT TRANSCRIPT``, the least a card can do over the same vpcd
  protocol: stdlib only, the same socket options as ``VpcdClient`` (TCP_NODELAY, TCP_QUICKACK
  re-armed after every ``recv``, pcsc-vpcd.md §2), the same reads (one ``recv`` of whatever is
  there), and the served card's recorded response to each command replayed, so that both send
  the same bytes back (a floor answering ``9000`` to a READ BINARY would send 256 bytes less);
* **stub**: ``pcsclib.py stub PORT TRANSCRIPT``, the project's ``VpcdClient`` serving a card
  that replays the transcript: the transport alone, without the card's work.

A transcript is JSON: ``{"atr": HEX, "exchanges": [[COMMAND_HEX, RESPONSE_HEX], ...]}``. The
replay answers each command with its recorded responses in turn (cycling), so a command answered
differently at different moments (an empty VERIFY before and after the PIN) replays faithfully as
long as the client repeats its sequence; an unknown command gets ``6D00``.

Every user of the readers must hold the machine-wide lock (``flock /tmp/mynacard-pcsc.lock``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
STACK_SCRIPT = REPO / "scripts" / "pcsc-stack.sh"
VPCD_PORT = 35963  # reader K listens on 35963 + K (scripts/pcsc-stack.sh)
READY_TIMEOUT = 30.0  # seconds: a wait, not a measurement
UNKNOWN = bytes.fromhex("6D00")

Transmit = Callable[[bytes], bytes]
Exchanges = list[tuple[bytes, bytes]]


# --- transcripts and their replay -------------------------------------------------------------


def write_transcript(path: Path, atr: bytes, exchanges: Sequence[tuple[bytes, bytes]]) -> None:
    """Save what a card answered (TEST cards only: VERIFY data is kept as sent)."""
    path.write_text(
        json.dumps({"atr": atr.hex(), "exchanges": [[c.hex(), r.hex()] for c, r in exchanges]})
    )


def read_transcript(path: Path) -> tuple[bytes, Exchanges]:
    data = json.loads(path.read_text())
    return bytes.fromhex(data["atr"]), [
        (bytes.fromhex(c), bytes.fromhex(r)) for c, r in data["exchanges"]
    ]


class Replay:
    """Each command's recorded responses, in turn: ``replay(command) -> response``."""

    __slots__ = ("_answers",)

    def __init__(self, exchanges: Exchanges) -> None:
        # command -> [position, response, response, ...]: one lookup and one index per APDU
        self._answers: dict[bytes, list[Any]] = {}
        for command, response in exchanges:
            self._answers.setdefault(command, [0]).append(response)

    def __call__(self, command: bytes) -> bytes:
        entry = self._answers.get(command)
        if entry is None:
            return UNKNOWN
        turn = entry[0] % (len(entry) - 1) + 1
        entry[0] = turn
        response: bytes = entry[turn]
        return response


class ReplayCard:
    """A card (``CardLike`` of the transport) that only replays a transcript."""

    def __init__(self, atr: bytes, replay: Replay) -> None:
        self.atr = atr
        self.transmit = replay

    def power_on(self) -> None:
        pass

    def power_off(self) -> None:
        pass

    def reset(self) -> None:
        pass


class RecordingCard:
    """A real card whose exchanges are kept, to be replayed by the floor and the stub."""

    def __init__(self, card: Any) -> None:
        self.card = card
        self.exchanges: Exchanges = []

    @property
    def atr(self) -> bytes:
        atr: bytes = self.card.atr
        return atr

    def power_on(self) -> None:
        self.card.power_on()

    def power_off(self) -> None:
        self.card.power_off()

    def reset(self) -> None:
        self.card.reset()

    def transmit(self, apdu: bytes) -> bytes:
        response: bytes = self.card.transmit(apdu)
        self.exchanges.append((bytes(apdu), response))
        return response


# --- the floor and the stub, each run as `pcsclib.py floor|stub PORT TRANSCRIPT` -----------------


def serve_floor(
    port: int,
    atr: bytes,
    replay: Replay,
    *,
    wait: Callable[[socket.socket], object] | None = None,
    nodelay: bool = True,
) -> None:
    """The transport floor: vpcd's protocol with nothing else. Returns at EOF.

    ``wait`` (called before every ``recv``) and ``nodelay=False`` exist to measure one habit of a
    serving loop at a time (``bench_pcsc.py --suspects``); the floor itself has neither.
    """
    quickack = getattr(socket, "TCP_QUICKACK", 12)
    tcp = socket.IPPROTO_TCP
    atr_frame = len(atr).to_bytes(2, "big") + atr
    with socket.create_connection(("127.0.0.1", port)) as sock:
        if nodelay:
            sock.setsockopt(tcp, socket.TCP_NODELAY, 1)
        recv, setsockopt, sendall = sock.recv, sock.setsockopt, sock.sendall
        pending = b""
        while True:
            try:
                if wait is not None:
                    wait(sock)
                data = recv(0xFFFF + 2)
                setsockopt(tcp, quickack, 1)  # not sticky: after every recv (§2)
            except OSError:
                return
            if not data:
                return
            if pending:
                data = pending + data
            size, start = len(data), 0
            while size - start >= 2:
                end = start + 2 + (data[start] << 8 | data[start + 1])
                if end > size:
                    break
                payload = data[start + 2 : end]
                start = end
                if len(payload) > 1:
                    response = replay(payload)
                    sendall(len(response).to_bytes(2, "big") + response)
                elif payload == b"\x04":  # GET ATR; power on/off/reset are not answered
                    sendall(atr_frame)
            pending = data[start:]


def serve_floor_exact_reads(port: int, atr: bytes, replay: Replay) -> None:
    """The floor reading exact sizes: ``recv(2)`` for the length, then ``recv(n)`` (what this
    benchmark's floor did before; ``--suspects``)."""
    quickack = getattr(socket, "TCP_QUICKACK", 12)
    tcp = socket.IPPROTO_TCP
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(tcp, socket.TCP_NODELAY, 1)

        def read_exact(n: int) -> bytes:
            data = b""
            while len(data) < n:
                chunk = sock.recv(n - len(data))
                sock.setsockopt(tcp, quickack, 1)
                if not chunk:
                    raise EOFError
                data += chunk
            return data

        try:
            while True:
                payload = read_exact(int.from_bytes(read_exact(2), "big"))
                if len(payload) > 1:
                    response = replay(payload)
                    sock.sendall(len(response).to_bytes(2, "big") + response)
                elif payload == b"\x04":
                    sock.sendall(len(atr).to_bytes(2, "big") + atr)
        except (EOFError, OSError):
            return


def _wait_select(sock: socket.socket) -> object:
    import select

    return select.select([sock, _WAKE], [], [])


def _wait_poll(sock: socket.socket) -> object:
    global _POLLER
    if _POLLER is None:
        import select

        _POLLER = select.poll()
        _POLLER.register(sock, select.POLLIN)
        _POLLER.register(_WAKE, select.POLLIN)
    return _POLLER.poll()


_WAKE, _ = socket.socketpair()  # a second descriptor to wait on, as a serving loop's wake-up
_POLLER: Any = None


def serve_stub(port: int, atr: bytes, replay: Replay) -> None:
    """The project's transport (``VpcdClient``) around a card that only replays."""
    sys.path.insert(0, str(REPO))
    from card_emulator.transport.vpcd import VpcdClient

    VpcdClient(ReplayCard(atr, replay), port=port).run()  # until SIGTERM


def card_main(argv: Sequence[str]) -> None:
    kind, port, transcript = argv[0], int(argv[1]), Path(argv[2])
    atr, exchanges = read_transcript(transcript)
    replay = Replay(exchanges)
    if kind == "floor":
        serve_floor(port, atr, replay)
    elif kind == "floor+select":
        serve_floor(port, atr, replay, wait=_wait_select)
    elif kind == "floor+poll":
        serve_floor(port, atr, replay, wait=_wait_poll)
    elif kind == "floor-nodelay-off":
        serve_floor(port, atr, replay, nodelay=False)
    elif kind == "floor-exact-reads":
        serve_floor_exact_reads(port, atr, replay)
    elif kind == "stub":
        serve_stub(port, atr, replay)
    else:
        raise SystemExit(f"pcsclib: no card kind {kind!r}")


# --- bringing cards up --------------------------------------------------------------------------


def start_stack(readers: int) -> None:
    """pcscd with at least ``readers`` vpcd readers (a running stack with more is kept)."""
    done = subprocess.run(
        ["bash", str(STACK_SCRIPT), "start", "--readers", str(readers)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable},
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: the PC/SC stack did not start:\n{done.stdout}{done.stderr}")


def reader_name(index: int) -> str:
    """PC/SC name of vpcd reader ``index`` (scripts/pcsc-stack.sh)."""
    sys.path.insert(0, str(REPO))
    from card_emulator.transport.vpcd import reader_name as name

    return name(index)


def port_has_card(port: int) -> bool:
    """True when some local process is already connected to this vpcd port (Linux /proc)."""
    try:
        rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False
    for row in rows:
        fields = row.split()
        if int(fields[2].split(":")[1], 16) == port and fields[3] == "01":  # ESTABLISHED
            return True
    return False


def check_free(indices: Sequence[int]) -> None:
    for index in indices:
        if port_has_card(VPCD_PORT + index):
            raise SystemExit(f"bench: {reader_name(index)} already holds a card; stop it first")


def wait_for_card(name: str, timeout: float = READY_TIMEOUT) -> None:
    """Until ``SCardConnect`` works on reader ``name``."""
    from smartcard.Exceptions import CardConnectionException, NoCardException
    from smartcard.System import readers

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for reader in readers():
            if str(reader) == name:
                connection = reader.createConnection()
                try:
                    connection.connect()
                except (NoCardException, CardConnectionException):
                    break
                connection.disconnect()
                return
        time.sleep(0.1)
    raise SystemExit(f"bench: no card appeared in {name!r} within {timeout:.0f} s")


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed package runs
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


@contextmanager
def process(argv: list[str], **kwargs: Any) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(argv, text=True, **kwargs)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far, all its threads (Linux schedstat, ns resolution)."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
    except OSError:
        return float("nan")
    return total / 1e9


@contextmanager
def served_card(index: int, card_path: Path, *extra: str) -> Iterator[int]:
    """``mynacard serve CARD --reader index [extra]`` until the block ends (its own control
    directory): the server's pid."""
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as runtime:
        env = {**child_env(), "XDG_RUNTIME_DIR": runtime}
        ready = Path(runtime) / "ready"
        argv = [sys.executable, "-m", "card_emulator.cli", "serve", str(card_path)]
        argv += ["--reader", str(index), "--ready-file", str(ready), *extra]
        log = Path(runtime) / "serve.log"  # a file, not a pipe nobody reads while it runs
        with (
            log.open("w") as err,
            process(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err) as proc,
        ):
            deadline = time.monotonic() + READY_TIMEOUT
            while not ready.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    said = log.read_text().strip()
                    raise SystemExit(f"bench: mynacard serve did not become ready: {said}")
                time.sleep(0.05)
            wait_for_card(reader_name(index))
            yield proc.pid


@contextmanager
def bench_card(kind: str, index: int, transcript: Path) -> Iterator[int]:
    """A replaying card (``floor``, ``stub``, or a floor variant of ``card_main``) in reader
    ``index``: its pid."""
    argv = [sys.executable, __file__, kind, str(VPCD_PORT + index), str(transcript)]
    with process(argv, cwd=REPO, env=child_env()) as proc:
        wait_for_card(reader_name(index))
        yield proc.pid


@contextmanager
def recording_card(index: int, card: Any) -> Iterator[RecordingCard]:
    """``card`` served in reader ``index`` by a VpcdClient in a thread of this process, its
    exchanges recorded (for a transcript; never measured)."""
    import threading

    from card_emulator.transport.vpcd import VpcdClient

    recorder = RecordingCard(card)
    client = VpcdClient(recorder, port=VPCD_PORT + index)
    thread = threading.Thread(target=client.run, daemon=True)
    thread.start()
    try:
        wait_for_card(reader_name(index))
        yield recorder
    finally:
        client.stop()
        thread.join(10)
        client.close()


# --- the client side ----------------------------------------------------------------------------


@contextmanager
def pcsc_connection(name: str) -> Iterator[Transmit]:
    """A pyscard connection to reader ``name``, speaking bytes."""
    from smartcard.System import readers

    connection = next(r for r in readers() if str(r) == name).createConnection()
    connection.connect()

    def transmit(apdu: bytes) -> bytes:
        data, sw1, sw2 = connection.transmit(list(apdu))
        return bytes([*data, sw1, sw2])

    try:
        yield transmit
    finally:
        connection.disconnect()


if __name__ == "__main__":
    card_main(sys.argv[1:])
