"""Capped capture of the submission's output: never more than a fixed number of bytes kept."""

from __future__ import annotations

import os
import select
import threading
from contextlib import suppress
from typing import IO

READ_CHUNK = 65536
SETTLE_BUDGET = 4 * 1024 * 1024


class CappedBuffer:
    """Keeps the head and the tail of a stream, never more than ``cap`` bytes in all."""

    def __init__(self, cap: int) -> None:
        self._head_cap = cap // 2
        self._tail_cap = cap - self._head_cap
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        """Keep what fits of ``chunk``: the first bytes ever seen, then a sliding tail."""
        self.total += len(chunk)
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk
            overflow = len(self._tail) - self._tail_cap
            if overflow > 0:
                del self._tail[:overflow]
                self.dropped += overflow

    def last(self, count: int) -> str:
        """The last ``count`` bytes fed, as far as they are still kept, decoded."""
        kept = bytes(self._head + self._tail) if not self.dropped else bytes(self._tail)
        return kept[-count:].decode("utf-8", errors="replace") if count > 0 else ""

    def text(self) -> str:
        """What was kept, decoded, with a marker where bytes were dropped."""
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        if self.dropped:
            return f"{head}\n[… {self.dropped:,} bytes not kept …]\n{tail}"
        return head + tail


class OutputPipe:
    """Reads one output pipe of the sandbox into a ``CappedBuffer`` on a thread of its own.

    ``settle`` makes sure that what the sandbox wrote before the call is in the
    buffer: whoever holds the lock reads, so the grader can take a report's
    output from a sandbox that is still running.
    """

    def __init__(self, stream: IO[bytes], sink: CappedBuffer) -> None:
        self.sink = sink
        self._stream = stream
        self._fd = stream.fileno()
        os.set_blocking(self._fd, False)
        self._lock = threading.Lock()
        self._ended = False

    def run(self) -> None:
        """Read until the writers are gone, then close the pipe (the thread's target)."""
        poller = select.poll()
        poller.register(self._fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        try:
            while not self._ended:
                poller.poll()
                with self._lock:
                    self._read(READ_CHUNK)
        finally:
            with self._lock:
                self._ended = True
                with suppress(OSError):
                    self._stream.close()

    def settle(self, budget: int = SETTLE_BUDGET) -> None:
        """Take in what is waiting in the pipe now (at most ``budget`` bytes, for a writer that never stops)."""
        with self._lock:
            if not self._ended:
                self._read(budget)

    def _read(self, budget: int) -> None:
        while budget > 0:
            try:
                chunk = os.read(self._fd, min(READ_CHUNK, budget))
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._ended = True
                return
            self.sink.feed(chunk)
            budget -= len(chunk)
