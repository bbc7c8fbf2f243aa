"""CRI log format: writer, parser, the kubectl-logs reader and rotation."""

from __future__ import annotations

import asyncio
import gzip
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kybernetes.client.clock import FakeClock, SystemClock
from kybernetes.kubelet import logs
from kybernetes.kubelet.logs import CriLogWriter, LogOptions, parse_line, read_logs

T0 = 1_475_713_029_669_794_202  # 2016-10-06T00:17:09.669794202Z


async def collect(path: Path, options: LogOptions, **kw: object) -> bytes:
    clock = kw.pop("clock", SystemClock())
    chunks = [c async for c in read_logs(str(path), options, clock, **kw)]  # type: ignore[arg-type]
    return b"".join(chunks)


def test_timestamps_round_trip() -> None:
    assert logs.format_timestamp(T0) == "2016-10-06T00:17:09.669794202Z"
    assert logs.format_timestamp(T0 - 2, trim=True) == "2016-10-06T00:17:09.6697942Z"
    assert logs.format_timestamp(1_475_713_029 * 10**9, trim=True) == "2016-10-06T00:17:09Z"
    assert logs.parse_timestamp(b"2016-10-06T00:17:09.669794202Z") == T0
    assert logs.parse_timestamp(b"2016-10-06T02:17:09.669794202+02:00") == T0
    assert logs.parse_timestamp(b"2016-10-06T00:17:09Z") == 1_475_713_029 * 10**9
    with pytest.raises(ValueError):
        logs.parse_timestamp(b"yesterday")


def test_parse_line() -> None:
    entry = parse_line(b"2016-10-06T00:17:09.669794202Z stdout F the line\n")
    assert (entry.timestamp, entry.stream, entry.partial, entry.content) == (
        T0,
        "stdout",
        False,
        b"the line",
    )
    assert parse_line(b"2016-10-06T00:17:09Z stderr P ").content == b""
    for bad in (b"garbage", b"2016-10-06T00:17:09Z stdin F x", b"2016-10-06T00:17:09Z stdout X x"):
        with pytest.raises(ValueError):
            parse_line(bad)


def test_writer_full_partial_and_long_lines(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    writer = CriLogWriter(str(path))
    writer.write("stdout", b"one\ntw", T0)
    writer.write("stderr", b"err\n", T0 + 1)
    writer.write("stdout", b"o\n", T0 + 2)
    long = b"x" * (logs.MAX_LINE * 2 + 5)
    writer.write("stdout", long + b"\n", T0 + 3)
    writer.write("stdout", b"unterminated", T0 + 4)
    writer.flush("stdout", T0 + 5)
    writer.close()
    entries = [parse_line(line) for line in path.read_bytes().splitlines()]
    assert [(e.stream, e.partial, len(e.content)) for e in entries] == [
        ("stdout", False, 3),
        ("stderr", False, 3),
        ("stdout", False, 3),
        ("stdout", True, logs.MAX_LINE),
        ("stdout", True, logs.MAX_LINE),
        ("stdout", False, 5),
        ("stdout", True, len(b"unterminated")),
    ]
    assert entries[2].content == b"two" and entries[2].timestamp == T0 + 2
    assert path.read_bytes().startswith(b"2016-10-06T00:17:09.669794202Z stdout F one\n")


def write_log(path: Path, lines: list[tuple[int, str, str, str]]) -> None:
    path.write_text(
        "".join(f"{logs.format_timestamp(ts)} {s} {tag} {text}\n" for ts, s, tag, text in lines)
    )


SAMPLE = [
    (T0, "stdout", "F", "a"),
    (T0 + 10**9, "stderr", "F", "b"),
    (T0 + 2 * 10**9, "stdout", "P", "c1"),
    (T0 + 2 * 10**9 + 5, "stdout", "F", "c2"),
    (T0 + 3 * 10**9, "stdout", "F", "d"),
]


async def test_read_all_tail_since_timestamps_limit(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    write_log(path, SAMPLE)
    assert await collect(path, LogOptions()) == b"a\nb\nc1c2\nd\n"
    assert await collect(path, LogOptions(tail_lines=2)) == b"c2\nd\n"
    assert await collect(path, LogOptions(tail_lines=3)) == b"c1c2\nd\n"
    assert await collect(path, LogOptions(tail_lines=0)) == b""
    assert await collect(path, LogOptions(tail_lines=100)) == b"a\nb\nc1c2\nd\n"
    since = datetime.fromtimestamp((T0 + 2 * 10**9) // 10**9, UTC)
    assert await collect(path, LogOptions(since_time=since)) == b"c1c2\nd\n"
    stamped = await collect(path, LogOptions(tail_lines=1, timestamps=True))
    assert stamped == b"2016-10-06T00:17:12.669794202Z d\n"
    assert await collect(path, LogOptions(limit_bytes=5)) == b"a\nb\nc"
    clock = FakeClock()
    clock_now = clock.wall().timestamp()
    recent = int(clock_now * 10**9) - 5 * 10**9
    write_log(
        path, [(recent - 10**9, "stdout", "F", "old"), (recent + 10**9, "stdout", "F", "new")]
    )
    assert await collect(path, LogOptions(since_seconds=5), clock=clock) == b"new\n"


async def test_timestamps_are_shown_in_utc_like_go(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_text(
        "2016-10-06T02:17:09.500+02:00 stdout F z\n"
        "2016-10-06T00:17:09.000000000Z stdout F whole\n"
        "not-a-time stdout F dropped\n"
    )
    assert await collect(path, LogOptions(timestamps=True)) == (
        b"2016-10-06T00:17:09.5Z z\n2016-10-06T00:17:09Z whole\n"
    )


async def test_read_skips_malformed_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_text(f"junk\n{logs.format_timestamp(T0)} stdout F ok\n")
    assert await collect(path, LogOptions()) == b"ok\n"
    with pytest.raises(FileNotFoundError):
        await collect(tmp_path / "none.log", LogOptions())


async def test_follow_across_rotation_until_exit(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    writer = CriLogWriter(str(path))
    writer.write("stdout", b"first\n", T0)
    running = True

    async def is_running() -> bool:
        return running

    received = bytearray()
    got = asyncio.Event()

    async def follow() -> None:
        async for chunk in read_logs(str(path), LogOptions(follow=True), SystemClock(), is_running):
            received.extend(chunk)
            got.set()

    async with asyncio.timeout(10):
        async with asyncio.TaskGroup() as tg:
            task = tg.create_task(follow())
            while b"first\n" not in received:
                await got.wait()
                got.clear()
            os.rename(path, f"{path}.20161006-001709")
            writer.write("stdout", b"late in old file\n", T0 + 1)
            writer.reopen()
            writer.write("stdout", b"second\n", T0 + 2)
            while b"second\n" not in received:
                await got.wait()
                got.clear()
            writer.write("stdout", b"last\n", T0 + 3)
            writer.close()
            running = False
        assert task.done()
    assert bytes(received) == b"first\nlate in old file\nsecond\nlast\n"


async def test_follow_of_an_exited_container_ends_after_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    write_log(path, SAMPLE)

    async def is_running() -> bool:
        return False

    async with asyncio.timeout(5):
        output = await collect(path, LogOptions(follow=True, tail_lines=1), is_running=is_running)
    assert output == b"d\n"


async def test_rotation_keeps_max_files_and_compresses(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    writer = CriLogWriter(str(path))
    clock = FakeClock()
    reopened = 0

    async def reopen() -> None:
        nonlocal reopened
        reopened += 1
        writer.reopen()

    assert not await logs.rotate_if_needed(str(path), reopen, clock, max_size=100)
    for i in range(6):
        writer.write("stdout", f"{i}".encode() * 200 + b"\n", T0 + i)
        assert await logs.rotate_if_needed(str(path), reopen, clock, max_size=100, max_files=4)
        clock.advance(1)
    assert reopened == 6
    rotated = [Path(r) for r in logs.rotated_logs(str(path))]
    # max_files 4 = the current file + 3 rotated; all but the two newest compressed
    assert [r.suffix == ".gz" for r in rotated] == [True, False, False]
    oldest, newest = rotated[0], rotated[2]
    assert gzip.decompress(oldest.read_bytes()).count(b"3") == 200
    assert newest.read_bytes().count(b"5") == 200
    assert path.read_bytes() == b""
    writer.close()


async def test_rotation_undone_when_reopen_fails(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(b"x" * 200)

    async def reopen() -> None:
        raise RuntimeError("container is not running")

    with pytest.raises(RuntimeError):
        await logs.rotate_if_needed(str(path), reopen, FakeClock(), max_size=100)
    assert path.read_bytes() == b"x" * 200
    assert logs.rotated_logs(str(path)) == []


def test_container_log_path() -> None:
    assert logs.container_log_path("/l/ns_p_u", "c", 2) == "/l/ns_p_u/c/2.log"
