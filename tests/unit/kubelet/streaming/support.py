"""Test support: a host-process RuntimeService, a running KubeletServer, a SPDY client.

`HostRuntime` is a minimal RuntimeService for the streaming server: one ready sandbox
per registered pod, containers that are host processes (exec runs the command on the
host, attach talks to a `cat` started for the container, port-forward connects to
127.0.0.1). `SpdyClient` speaks the client side of SPDY/3.1 with the same framing
code as the server, over a real TLS connection after a real `Upgrade`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kybernetes.apiserver.pki import PKI
from kybernetes.kubelet.runtime.interface import (
    ContainerState,
    ContainerStatus,
    PodSandboxConfig,
    PodSandboxStatus,
    SandboxState,
)
from kybernetes.kubelet.streaming import spdy


@dataclass
class HostProcess:
    """A StreamedProcess over an asyncio subprocess."""

    proc: asyncio.subprocess.Process
    stdin: asyncio.StreamWriter | None
    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader | None
    sizes: list[tuple[int, int]] = field(default_factory=list)

    def resize(self, width: int, height: int) -> None:
        self.sizes.append((width, height))

    async def wait(self) -> int:
        return await self.proc.wait()

    async def kill(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()


class HostRuntime:
    """Just enough RuntimeService for the kubelet server (see module docstring)."""

    name = "host"
    version = "0.0.1"

    def __init__(self, log_root: Path) -> None:
        self.log_root = log_root
        self.sandboxes: list[PodSandboxStatus] = []
        self.containers: list[ContainerStatus] = []
        self.processes: list[HostProcess] = []
        self.started = asyncio.Event()  # set once a process was started

    def add_pod(self, namespace: str, name: str, containers: Sequence[str]) -> str:
        uid = f"uid-{name}"
        labels = {
            "io.kubernetes.pod.name": name,
            "io.kubernetes.pod.namespace": namespace,
            "io.kubernetes.pod.uid": uid,
        }
        log_dir = self.log_root / f"{namespace}_{name}_{uid}"
        config = PodSandboxConfig(name, namespace, uid, log_directory=str(log_dir), labels=labels)
        sandbox = PodSandboxStatus(f"sb-{name}", config, SandboxState.READY, 1)
        self.sandboxes.append(sandbox)
        for index, container in enumerate(containers):
            (log_dir / container).mkdir(parents=True, exist_ok=True)
            self.containers.append(
                ContainerStatus(
                    id=f"c-{name}-{container}",
                    sandbox_id=sandbox.id,
                    name=container,
                    attempt=0,
                    state=ContainerState.RUNNING,
                    created_at=index,
                    image="busybox",
                    image_ref="busybox",
                    log_path=f"{container}/0.log",
                    labels={**labels, "io.kubernetes.container.name": container},
                )
            )
        return sandbox.id

    async def list_pod_sandboxes(self) -> list[PodSandboxStatus]:
        return list(self.sandboxes)

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        return [c for c in self.containers if sandbox_id in (None, c.sandbox_id)]

    async def container_status(self, container_id: str) -> ContainerStatus:
        return next(c for c in self.containers if c.id == container_id)

    async def exec(
        self, container_id: str, cmd: Sequence[str], *, tty: bool, stdin: bool
    ) -> HostProcess:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT if tty else asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None
        process = HostProcess(proc, proc.stdin, proc.stdout, None if tty else proc.stderr)
        self.processes.append(process)
        self.started.set()
        return process

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> HostProcess:
        return await self.exec(container_id, ["cat"], tty=tty, stdin=stdin)

    async def port_forward(
        self, sandbox_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", port)

    async def cleanup(self) -> None:
        for process in self.processes:
            await process.kill()


def client_context(pki: PKI, *, with_cert: bool = True) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if with_cert:
        context.load_cert_chain(pki.kubelet_client.cert_path, pki.kubelet_client.key_path)
    return context


class SpdyClient:
    """The client side of a SPDY/3.1 session after an HTTP upgrade."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.encoder, self.decoder = spdy.FrameEncoder(), spdy.FrameDecoder()
        self.next_id = 1
        self.data: dict[int, bytearray] = {}
        self.finished: set[int] = set()
        self.frames: list[spdy.Frame] = []

    @classmethod
    async def connect(
        cls, port: int, path: str, context: ssl.SSLContext, protocols: Sequence[str]
    ) -> tuple[int, dict[str, str], SpdyClient]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
        head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        head += ["Connection: Upgrade", "Upgrade: SPDY/3.1", "Content-Length: 0"]
        head += [f"X-Stream-Protocol-Version: {p}" for p in protocols]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode().split("\r\n")
        code = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
        return code, headers, cls(reader, writer)

    def open(self, headers: dict[str, str], *, fin: bool = False) -> int:
        stream_id, self.next_id = self.next_id, self.next_id + 2
        frame = spdy.SynStream(stream_id, {k: [v] for k, v in headers.items()}, fin=fin)
        self.writer.write(self.encoder.encode(frame))
        return stream_id

    def send(self, stream_id: int, data: bytes, *, fin: bool = False) -> None:
        self.writer.write(self.encoder.encode(spdy.DataFrame(stream_id, data, fin)))

    async def pump(self) -> bool:
        """Reads frames once; False at the end of the connection."""
        chunk = await self.reader.read(65536)
        if not chunk:
            return False
        for frame in self.decoder.feed(chunk):
            self.frames.append(frame)
            if isinstance(frame, spdy.DataFrame):
                self.data.setdefault(frame.stream_id, bytearray()).extend(frame.data)
                if frame.fin:
                    self.finished.add(frame.stream_id)
        return True

    async def until(self, predicate: Any) -> None:
        """Reads frames until `predicate()` holds (10 s at most)."""
        async with asyncio.timeout(10):
            while not predicate():
                if not await self.pump():
                    break
        assert predicate(), f"condition not met; frames: {self.frames[-5:]}"

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()
