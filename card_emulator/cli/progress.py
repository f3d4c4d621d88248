"""One progress line for a wait a person would notice (issue 12), and nothing for scripts.

``with progress("making the test card of seed 7"):`` prints, on standard error, after half a second,
``mynacard: making the test card of seed 7 …`` and, when the block ends, ``done (1.4 s)`` on the
same line. Nothing at all is printed when the block ends first, when ``quiet`` (``--json``), or
when standard output or standard error is not a terminal: piped output and logs stay clean.

``MYNACARD_PROGRESS_AFTER`` (seconds, default 0.5) changes the delay; the tests set it to 0.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_DELAY = 0.5


def _delay() -> float:
    try:
        return max(0.0, float(os.environ.get("MYNACARD_PROGRESS_AFTER", DEFAULT_DELAY)))
    except ValueError:
        return DEFAULT_DELAY


def on_terminal() -> bool:
    """Whether a person watches: standard output and standard error are both terminals."""
    return all(stream is not None and stream.isatty() for stream in (sys.stdout, sys.stderr))


@contextmanager
def progress(message: str, *, quiet: bool = False) -> Iterator[None]:
    """Tell a person on a terminal what takes long, once, if it takes long (module doc)."""
    if quiet or not on_terminal():
        yield
        return
    start = time.monotonic()
    lock = threading.Lock()
    state = {"shown": False, "over": False}

    def show() -> None:
        with lock:
            if state["over"]:
                return
            state["shown"] = True
            sys.stderr.write(f"mynacard: {message} …")
            sys.stderr.flush()

    timer = threading.Timer(_delay(), show)
    timer.daemon = True
    timer.start()
    ok = False
    try:
        yield
        ok = True
    finally:
        timer.cancel()
        with lock:
            state["over"] = True
            if state["shown"]:
                end = f" done ({time.monotonic() - start:.1f} s)" if ok else ""
                sys.stderr.write(end + "\n")  # an error message then starts on its own line
                sys.stderr.flush()
