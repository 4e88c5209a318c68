"""Capped capture of the submission's output: never more than a fixed number of bytes kept."""

from __future__ import annotations

from contextlib import suppress
from typing import BinaryIO

READ_CHUNK = 65536


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


def drain(stream: BinaryIO, sink: CappedBuffer) -> None:
    """Read ``stream`` to its end into ``sink``, then close it; a broken stream just ends the reading."""
    read = getattr(stream, "read1", stream.read)
    try:
        with suppress(OSError, ValueError):
            while chunk := read(READ_CHUNK):
                sink.feed(chunk)
    finally:
        with suppress(OSError):
            stream.close()
