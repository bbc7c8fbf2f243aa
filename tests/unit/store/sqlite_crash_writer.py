"""Child process of the SQLite crash test: writes keys until killed.

Usage: python sqlite_crash_writer.py DB_PATH WRITERS

Opens the store at DB_PATH and runs WRITERS concurrent tasks that create keys
`/crash/<writer>/<n>` forever. Each key is printed (and flushed) to stdout only after
its create was acknowledged, so every printed key must survive a SIGKILL.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from kybernetes.store.sqlite import SqliteStore


async def main(path: Path, writers: int) -> None:
    store = await SqliteStore.open(path)

    async def writer(w: int) -> None:
        n = 0
        while True:
            key = f"/crash/{w:03d}/{n:08d}"
            await store.create(key, key.encode() * 8)
            sys.stdout.write(key + "\n")
            sys.stdout.flush()
            n += 1

    try:
        async with asyncio.TaskGroup() as tasks:
            for w in range(writers):
                tasks.create_task(writer(w))
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
