"""Container logs in the CRI log format: writer, parser, `kubectl logs` reader, rotation.

Format (one entry per line, as containerd and CRI-O write and the kubelet reads)::

    2016-10-06T00:17:09.669794202Z stdout F the line

TIMESTAMP (RFC3339Nano, UTC) STREAM (`stdout`/`stderr`) TAG (`F` full, `P` partial) and
the content. A line longer than MAX_LINE (16 KiB) is split into `P` entries followed by
an `F` entry; an unterminated last line is flushed as a `P` entry (containerd does so).

API:
- `CriLogWriter(path)` (from `logformat`, which the container shim imports alone so
  that it starts fast): `write(stream, data, ts_ns)`, `flush(stream, ts_ns)` at the end
  of a stream, `reopen()` after rotation, `close()`.
- `parse_line(raw) -> LogEntry` (raises ValueError on a malformed line).
- `read_logs(path, options, clock, is_running) -> AsyncIterator[bytes]`: the kubelet's
  /containerLogs semantics (pkg/kubelet/kuberuntime/logs): `tail_lines` (entries from the
  end; 0 gives nothing), `since_time`/`since_seconds`, `timestamps` (each entry prefixed
  with its time formatted like Go's RFC3339Nano, i.e. trailing zeros trimmed),
  `limit_bytes` (output cut at that many bytes), `follow` (waits for more at EOF, follows
  the file across rotation, ends once `is_running()` says the container has exited and
  the file is drained). Only the current file is read, like the kubelet. `--previous`
  is the caller's choice of path: the log of restart N-1 (`container_log_path`).
- Rotation (the kubelet's container log manager, containerLogMaxSize 10Mi and
  containerLogMaxFiles 5): `rotate_if_needed(path, reopen, ...)` renames NAME.log to
  NAME.log.YYYYMMDD-HHMMSS, asks the runtime to reopen (undoing the rename if it fails),
  keeps at most max_files-1 rotated files and gzips all but the newest rotated one.
  Its file operations block (gzip of up to max_size): call it from a worker thread or
  accept the pause.
"""

from __future__ import annotations

import calendar
import functools
import gzip
import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, BinaryIO

from .logformat import MAX_LINE, CriLogWriter, format_timestamp

if TYPE_CHECKING:
    from kybernetes.client.clock import Clock

__all__ = ["MAX_LINE", "CriLogWriter", "LogEntry", "LogOptions", "format_timestamp", "parse_line"]

DEFAULT_MAX_SIZE = 10 * 1024 * 1024
DEFAULT_MAX_FILES = 5
ROTATION_FORMAT = "%Y%m%d-%H%M%S"
FOLLOW_POLL_SECONDS = 0.1
_READ_SIZE = 64 * 1024
_STREAMS = (b"stdout", b"stderr")
_TAGS = (b"F", b"P")
_TIMESTAMP = re.compile(
    rb"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)"
)


def _canonical(raw: bytes) -> bool:
    """Whether `raw` is written like our writer does: 9 fraction digits and `Z`."""
    return len(raw) == 30 and raw[19:20] == b"." and raw[29:30] == b"Z" and raw[20:29].isdigit()


@functools.lru_cache(maxsize=256)
def _whole_seconds(raw: bytes) -> int:
    """Unix seconds of YYYY-MM-DDTHH:MM:SS (cached: a log's lines share their seconds)."""
    return parse_timestamp(raw + b"Z") // 1_000_000_000


def parse_timestamp(raw: bytes) -> int:
    """Unix ns of an RFC3339(Nano) timestamp; raises ValueError."""
    if _canonical(raw):
        return _whole_seconds(raw[:19]) * 1_000_000_000 + int(raw[20:29])
    m = _TIMESTAMP.fullmatch(raw)
    if m is None:
        raise ValueError(f"invalid timestamp {raw!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    zone = m.group(8)
    if zone != b"Z":
        offset = int(zone[1:3]) * 3600 + int(zone[4:6]) * 60
        seconds -= offset if zone[:1] == b"+" else -offset
    fraction = (m.group(7) or b"").ljust(9, b"0")
    return seconds * 1_000_000_000 + int(fraction)


@dataclass(frozen=True)
class LogEntry:
    """One parsed line: `content` excludes the newline; `partial` is the P tag."""

    timestamp: int
    stream: str
    partial: bool
    content: bytes


def parse_line(raw: bytes) -> LogEntry:
    """Parses one CRI log line (with or without its trailing newline)."""
    parts = raw.rstrip(b"\n").split(b" ", 3)
    if len(parts) < 3 or parts[1] not in _STREAMS or parts[2] not in _TAGS:
        raise ValueError(f"invalid CRI log line {raw[:80]!r}")
    content = parts[3] if len(parts) == 4 else b""
    return LogEntry(parse_timestamp(parts[0]), parts[1].decode(), parts[2] == b"P", content)


# -- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LogOptions:
    """PodLogOptions as the kubelet applies them (None: not set)."""

    tail_lines: int | None = None
    since_time: datetime | None = None
    since_seconds: int | None = None
    timestamps: bool = False
    follow: bool = False
    limit_bytes: int | None = None


def container_log_path(log_directory: str, container: str, restart_count: int) -> str:
    """DIR/CONTAINER/RESTART.log; the `previous` log is restart_count - 1."""
    return os.path.join(log_directory, container, f"{restart_count}.log")


def _tail_offset(f: BinaryIO, lines: int) -> int:
    """The offset where the last `lines` lines of `f` start."""
    end = f.seek(0, os.SEEK_END)
    if lines <= 0:
        return end
    position, found = end, 0
    while position > 0:
        step = min(_READ_SIZE, position)
        position -= step
        f.seek(position)
        block = f.read(step)
        if position + step == end and block.endswith(b"\n"):
            block = block[:-1]  # the final newline ends the last line, it starts none
        index = len(block)
        while (index := block.rfind(b"\n", 0, index)) >= 0:
            found += 1
            if found == lines:
                return position + index + 1
    return 0


def _trimmed(raw: bytes) -> bytes:
    """The timestamp `raw` as Go's RFC3339Nano prints it (trailing zeros trimmed)."""
    if _canonical(raw):
        fraction = raw[20:29].rstrip(b"0")
        return raw[:19] + (b"." + fraction if fraction else b"") + b"Z"
    return format_timestamp(parse_timestamp(raw), trim=True).encode()


def _render_lines(
    lines: list[bytes], since: int | None, timestamps: bool, remaining: int | None
) -> tuple[bytes, int | None]:
    """The output for complete log `lines` and the byte budget left after it. Malformed
    lines are skipped (timestamps are checked only when `since` or `timestamps` needs
    them: this runs for every line of a 10 MiB file)."""
    parts = []
    for line in lines:
        fields = line.split(b" ", 3)
        if len(fields) < 3 or fields[1] not in _STREAMS or fields[2] not in _TAGS:
            continue
        body = fields[3] if len(fields) == 4 else b""
        if fields[2] == b"F":
            body += b"\n"
        if since is not None or timestamps:
            try:
                if since is not None and parse_timestamp(fields[0]) < since:
                    continue
                if timestamps:
                    body = _trimmed(fields[0]) + b" " + body
            except ValueError:
                continue
        if remaining is not None:
            body = body[:remaining]
            remaining -= len(body)
        parts.append(body)
        if remaining == 0:
            break
    return b"".join(parts), remaining


async def read_logs(
    path: str,
    options: LogOptions,
    clock: Clock,
    is_running: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[bytes]:
    """Yields the log's output per `options` (see module docstring). Raises
    FileNotFoundError when `path` does not exist. Malformed lines are skipped."""
    since = None
    if options.since_time is not None:
        t = options.since_time
        since = calendar.timegm(t.utctimetuple()) * 1_000_000_000 + t.microsecond * 1000
    elif options.since_seconds is not None:
        since = int((clock.wall().timestamp() - options.since_seconds) * 1e9)
    remaining = options.limit_bytes
    f = open(path, "rb")  # noqa: ASYNC230,SIM115 - small local reads; closed below
    try:
        if options.tail_lines is not None and options.tail_lines >= 0:
            f.seek(_tail_offset(f, options.tail_lines))
        pending = b""
        switch = exited = False
        while True:
            chunk = f.read(_READ_SIZE)
            if chunk:
                pending += chunk
                *lines, pending = pending.split(b"\n")
                out, remaining = _render_lines(lines, since, options.timestamps, remaining)
                if out:
                    yield out
                if remaining == 0:
                    return
                continue
            if not options.follow:
                return
            if switch:  # the rotated file is drained a second time: move on
                f.close()
                f = open(path, "rb")  # noqa: ASYNC230,SIM115
                pending, switch = b"", False
            elif _rotated(f, path):
                switch = True  # let the writer finish with the old file first
                await clock.sleep(FOLLOW_POLL_SECONDS)
            elif exited:
                return
            elif is_running is not None and not await is_running():
                exited = True  # its output is complete: one more pass reads the rest
            else:
                await clock.sleep(FOLLOW_POLL_SECONDS)
    finally:
        f.close()


def _rotated(f: BinaryIO, path: str) -> bool:
    """Whether `path` is now another file than the open `f` (and it exists)."""
    try:
        return os.stat(path).st_ino != os.fstat(f.fileno()).st_ino
    except FileNotFoundError:
        return False


# -- rotation --------------------------------------------------------------------------


def rotated_logs(path: str) -> list[str]:
    """The rotated files of `path` (NAME.log.TIMESTAMP[.gz]), oldest first."""
    directory, base = os.path.split(path)
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    prefix = base + "."
    found = [n for n in names if n.startswith(prefix) and not n.endswith(".tmp")]
    return [os.path.join(directory, n) for n in sorted(found)]


def _compress(path: str) -> None:
    """gzips `path` into PATH.gz through PATH.gz.tmp, then removes `path`."""
    tmp = path + ".gz.tmp"
    with open(path, "rb") as src, gzip.open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.replace(tmp, path + ".gz")
    os.remove(path)


def _prepare(path: str, max_files: int, compress: bool) -> None:
    """Removes leftovers and excess rotated files and compresses old ones, so that after
    one more rotation at most max_files-1 rotated files remain."""
    directory, base = os.path.split(path)
    for name in os.listdir(directory):
        full = os.path.join(directory, name)
        if name.startswith(base + ".") and name.endswith(".tmp"):
            os.remove(full)
        elif name.startswith(base + ".") and os.path.exists(full + ".gz"):
            os.remove(full)  # compressed before a crash could remove it
    rotated = rotated_logs(path)
    excess = len(rotated) - max(max_files - 2, 0)
    for old in rotated[: max(excess, 0)]:
        os.remove(old)
    if compress:
        for old in rotated_logs(path)[:-1]:
            if not old.endswith(".gz"):
                _compress(old)


async def rotate_if_needed(
    path: str,
    reopen: Callable[[], Awaitable[None]],
    clock: Clock,
    max_size: int = DEFAULT_MAX_SIZE,
    max_files: int = DEFAULT_MAX_FILES,
    compress: bool = True,
) -> bool:
    """Rotates `path` if it is larger than `max_size`; True if it did. `reopen` makes the
    writer continue in a new file (RuntimeService.reopen_container_log); if it raises,
    the rename is undone and the error propagates."""
    try:
        if os.stat(path).st_size < max_size:
            return False
    except FileNotFoundError:
        return False
    _prepare(path, max(max_files, 2), compress)
    rotated = f"{path}.{clock.wall().strftime(ROTATION_FORMAT)}"
    try:
        os.link(path, rotated)  # fails if it exists: never two rotations in one second
    except FileExistsError:
        return False
    os.remove(path)
    try:
        await reopen()
    except BaseException:
        os.rename(rotated, path)
        raise
    return True
