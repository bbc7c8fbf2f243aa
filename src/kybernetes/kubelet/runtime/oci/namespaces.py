"""Pinned pod namespaces without a pause process (like CRI-O's pinns).

A sandbox's network, IPC and UTS namespaces are created by `unshare(1)` and kept alive
by bind-mounting their nsfs files onto regular files in the sandbox's `ns/` directory;
containers join them through the OCI spec's `linux.namespaces[].path`. No process has to
live for the namespaces to exist, and they survive a kubelet restart.

Invariants: `pin` either pins every requested namespace or raises (and leaves nothing
mounted); `unpin` is idempotent. `connect_in_netns` opens the socket from a dedicated
thread that entered the namespace with setns(2): a socket keeps the namespace it was
created in, and the thread (so no other code) ever runs inside the pod's namespace.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import threading
from collections.abc import Sequence
from pathlib import Path

from kybernetes.kubelet.runtime.oci.mounts import unmount_all

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class NamespaceError(Exception):
    """Creating or entering a namespace failed."""


async def pin(ns_dir: Path, kinds: Sequence[str], hostname: str) -> None:
    """Creates new namespaces of `kinds` (a subset of net, ipc, uts) pinned at
    ns_dir/KIND; sets `hostname` in the new UTS namespace."""
    if not kinds:
        return
    _prepare(ns_dir, kinds)
    argv = ["unshare", *(f"--{kind}={ns_dir / kind}" for kind in kinds)]
    argv += ["hostname", hostname] if "uts" in kinds and hostname else ["true"]
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        unpin(ns_dir)
        raise NamespaceError(f"unshare failed: {err.decode(errors='replace').strip()}")


def _prepare(ns_dir: Path, kinds: Sequence[str]) -> None:
    ns_dir.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        (ns_dir / kind).touch()


def unpin(ns_dir: Path) -> None:
    """Unmounts and deletes the pinned namespace files under `ns_dir` (idempotent)."""
    if not ns_dir.is_dir():
        return
    unmount_all(ns_dir)
    for path in ns_dir.iterdir():
        path.unlink(missing_ok=True)
    ns_dir.rmdir()


def _connect_thread(netns: Path, port: int, out: list[socket.socket | BaseException]) -> None:
    try:
        fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise NamespaceError(f"setns {netns}: {os.strerror(err)}")
        finally:
            os.close(fd)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.settimeout(10)
            sock.connect(("127.0.0.1", port))
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        out.append(sock)
    except BaseException as e:  # handed to the waiting coroutine
        out.append(e)


async def connect_in_netns(
    netns: Path, port: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection to 127.0.0.1:`port` inside the network namespace pinned at
    `netns`. Raises ConnectionError (refused, timeout) or NamespaceError."""
    out: list[socket.socket | BaseException] = []
    thread = threading.Thread(target=_connect_thread, args=(netns, port, out), daemon=True)
    thread.start()
    await asyncio.to_thread(thread.join)
    result = out[0]
    if isinstance(result, BaseException):
        if isinstance(result, OSError) and not isinstance(result, ConnectionError):
            raise ConnectionError(str(result)) from result
        raise result
    return await asyncio.open_connection(sock=result)
