"""Ctrl-C held back while a few files are swapped in, so a folder is never left half new.

``write_outputs`` replaces a solve's three files one after another when its output
folder already exists. A Ctrl-C between two of those replacements would leave the
new calendar beside the old report. ``held`` postpones SIGINT for such a block of
milliseconds: the block finishes, then ``WrittenThenInterrupted`` (a
``KeyboardInterrupt``) says that the files were written whole before the command stopped.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Sequence
from typing import Any


class WrittenThenInterrupted(KeyboardInterrupt):
    """Ctrl-C came while ``written`` were being put in place; they were, all of them."""

    def __init__(self, written: Sequence[str]) -> None:
        super().__init__(", ".join(written))
        self.written = list(written)


@contextlib.contextmanager
def held(written: Sequence[str]) -> Iterator[None]:
    """Run the block with SIGINT postponed; a Ctrl-C meanwhile raises
    ``WrittenThenInterrupted(written)`` once the block is done. Off the main thread (where
    Python delivers no signal) or with SIGINT not at Python's default, the block runs as is."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    came: list[int] = []

    def note(signum: int, frame: Any) -> None:
        came.append(signum)

    signal.signal(signal.SIGINT, note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if came:
        raise WrittenThenInterrupted(written)
