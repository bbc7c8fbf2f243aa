"""Writing the CRI log format (the container shim's half of `logs`, which documents the
format and reads it back). Only `os` and `time`: the shim imports this on every
container start, so it must load fast.

Invariants: each entry is written whole with one write(2) on an O_APPEND file, so a
reader never sees half an entry except at the very end of the file; no entry is longer
than MAX_LINE bytes of content; a stream's bytes appear in order, split only at newlines
or at MAX_LINE.
"""

from __future__ import annotations

import os
import time

MAX_LINE = 16 * 1024


def format_timestamp(ns: int, trim: bool = False) -> str:
    """RFC3339Nano UTC: 9 fraction digits, or Go's trimmed form when `trim`."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    digits = f"{fraction:09d}"
    if trim:
        digits = digits.rstrip("0")
    return f"{base}.{digits}Z" if digits else f"{base}Z"


class CriLogWriter:
    """Appends CRI entries to a file; buffers each stream's unterminated line.

    Not thread-safe. Entries are written whole with one write(2) on an O_APPEND file,
    so a reader never sees half an entry except at the very end of the file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = self._open()
        self._pending: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def write(self, stream: str, data: bytes, timestamp_ns: int) -> None:
        """Logs `data` of `stream`: every complete line as F, over-long ones as P chunks."""
        buf = self._pending[stream]
        buf.extend(data)
        if b"\n" not in data and len(buf) <= MAX_LINE:
            return
        *lines, rest = bytes(buf).split(b"\n")
        prefix = f"{format_timestamp(timestamp_ns)} {stream} ".encode()
        full, partial = prefix + b"F ", prefix + b"P "
        out = []
        if lines and max(map(len, lines)) <= MAX_LINE:  # the common case, at C speed
            out.append(full + (b"\n" + full).join(lines) + b"\n")
        else:
            for line in lines:
                chunks, start = _chunks(partial, line)
                out += chunks
                out.append(full + line[start:] + b"\n")
        chunks, start = _chunks(partial, rest)
        out += chunks
        buf[:] = rest[start:]
        if out:
            os.write(self._fd, b"".join(out))

    def flush(self, stream: str, timestamp_ns: int) -> None:
        """Ends `stream`: an unterminated last line is written as a P entry."""
        buf = self._pending[stream]
        if buf:
            prefix = f"{format_timestamp(timestamp_ns)} {stream} P ".encode()
            os.write(self._fd, prefix + bytes(buf) + b"\n")
            buf.clear()

    def reopen(self) -> None:
        """Continues in a fresh file at `path` (the old one was renamed away)."""
        fd = self._open()
        os.close(self._fd)
        self._fd = fd

    def close(self) -> None:
        os.close(self._fd)


def _chunks(partial: bytes, line: bytes) -> tuple[list[bytes], int]:
    """P entries for the MAX_LINE-sized pieces of `line` that leave at most MAX_LINE
    bytes, and the offset of what is left."""
    out = []
    start = 0
    while len(line) - start > MAX_LINE:
        out.append(partial + line[start : start + MAX_LINE] + b"\n")
        start += MAX_LINE
    return out, start
