"""The kubelet server over TLS: authentication, exec/attach over WebSocket and SPDY,
port-forward over all three transports, logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from kybernetes.apiserver.pki import PKI
from kybernetes.kubelet import logs
from kybernetes.kubelet.server import KubeletServer
from kybernetes.kubelet.streaming import spdy

from .support import HostRuntime, SpdyClient, client_context


def url(kubelet: KubeletServer, path: str) -> str:
    return f"https://127.0.0.1:{kubelet.port}{path}"


@pytest.fixture
async def session(pki: PKI) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(ssl=client_context(pki))
    async with aiohttp.ClientSession(connector=connector) as s:
        yield s


async def test_healthz_is_open_and_the_rest_needs_a_client_certificate(
    kubelet: KubeletServer, pki: PKI
) -> None:
    connector = aiohttp.TCPConnector(ssl=client_context(pki, with_cert=False))
    async with aiohttp.ClientSession(connector=connector) as anonymous:
        async with anonymous.get(url(kubelet, "/healthz")) as r:
            assert (r.status, await r.text()) == (200, "ok")
        async with anonymous.get(url(kubelet, "/pods")) as r:
            assert r.status == 401
            assert (await r.json())["reason"] == "Unauthorized"


async def test_unknown_pod_and_container_are_404_statuses(
    kubelet: KubeletServer, session: aiohttp.ClientSession
) -> None:
    async with session.post(url(kubelet, "/exec/default/nope/app?command=true&stdout=1")) as r:
        assert r.status == 404
        assert (await r.json())["message"] == "pod does not exist"
    async with session.post(url(kubelet, "/exec/default/web/other?command=true&stdout=1")) as r:
        assert r.status == 404
        assert (await r.json())["message"] == 'container not found ("other")'
    async with session.post(url(kubelet, "/exec/default/web/app?command=true")) as r:
        assert r.status == 400
        assert "at least 1 of stdin, stdout, stderr" in (await r.json())["message"]


async def _ws_exec(
    session: aiohttp.ClientSession, kubelet: KubeletServer, query: str, protocol: str, **kw: bytes
) -> tuple[dict[int, bytes], str]:
    path = f"/exec/default/web/app?{query}"
    out: dict[int, bytes] = {}
    async with session.ws_connect(url(kubelet, path), protocols=[protocol]) as ws:
        chosen = ws.protocol or ""
        if "stdin" in kw:
            await ws.send_bytes(b"\x00" + kw["stdin"])
            if chosen.startswith("v5"):
                await ws.send_bytes(b"\xff\x00")
        async with asyncio.timeout(10):
            async for message in ws:
                if message.type == aiohttp.WSMsgType.BINARY:
                    out[message.data[0]] = out.get(message.data[0], b"") + message.data[1:]
    return out, chosen


@pytest.mark.parametrize("protocol", ["v5.channel.k8s.io", "v4.channel.k8s.io"])
async def test_websocket_exec_reports_output_and_exit_status(
    kubelet: KubeletServer, session: aiohttp.ClientSession, protocol: str
) -> None:
    query = "command=sh&command=-c&command=echo out; echo err >%262; exit 3&stdout=1&stderr=1"
    out, chosen = await _ws_exec(session, kubelet, query, protocol)
    assert chosen == protocol
    assert (out[1], out[2]) == (b"out\n", b"err\n")
    status = json.loads(out[3])
    assert status["status"] == "Failure"
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert status["message"] == (
        "command terminated with non-zero exit code: error executing command "
        "[sh -c echo out; echo err >&2; exit 3], exit code 3"
    )


async def test_websocket_v5_stdin_close_ends_the_input(
    kubelet: KubeletServer, session: aiohttp.ClientSession
) -> None:
    out, _ = await _ws_exec(
        session, kubelet, "command=cat&stdin=1&stdout=1", "v5.channel.k8s.io", stdin=b"hello"
    )
    assert out[1] == b"hello"
    assert json.loads(out[3]) == {"metadata": {}, "status": "Success"}


async def test_websocket_v1_reports_only_failures_as_text(
    kubelet: KubeletServer, session: aiohttp.ClientSession
) -> None:
    out, chosen = await _ws_exec(session, kubelet, "command=false&stdout=1", "channel.k8s.io")
    assert chosen == "channel.k8s.io"
    assert out[3].startswith(b"command terminated with non-zero exit code")


async def test_spdy_exec_with_stdin_and_exit_status(kubelet: KubeletServer, pki: PKI) -> None:
    code, headers, client = await SpdyClient.connect(
        kubelet.port,
        "/exec/default/web/app?command=sh&command=-c&command=cat%3B%20exit%207&stdin=1&stdout=1&stderr=1",
        client_context(pki),
        ["v4.channel.k8s.io", "v3.channel.k8s.io"],
    )
    try:
        assert code == 101
        assert headers["x-stream-protocol-version"] == "v4.channel.k8s.io"
        error = client.open({"streamType": "error"}, fin=True)
        stdin = client.open({"streamType": "stdin"})
        stdout = client.open({"streamType": "stdout"}, fin=True)
        stderr = client.open({"streamType": "stderr"}, fin=True)
        await client.until(lambda: sum(isinstance(f, spdy.SynReply) for f in client.frames) == 4)
        client.send(stdin, b"from stdin", fin=True)
        await client.until(lambda: {error, stdout, stderr} <= client.finished)
        assert bytes(client.data[stdout]) == b"from stdin"
        status = json.loads(client.data[error])
        assert status["details"]["causes"][0]["message"] == "7"
        await client.until(lambda: any(isinstance(f, spdy.GoAway) for f in client.frames))
    finally:
        await client.close()


async def test_spdy_refuses_unknown_protocols_with_403(kubelet: KubeletServer, pki: PKI) -> None:
    code, headers, client = await SpdyClient.connect(
        kubelet.port, "/exec/default/web/app?command=true&stdout=1", client_context(pki), ["v9"]
    )
    await client.close()
    assert code == 403
    assert "v4.channel.k8s.io" in headers["x-accepted-stream-protocol-versions"]


async def test_spdy_answers_pings(kubelet: KubeletServer, pki: PKI) -> None:
    _, _, client = await SpdyClient.connect(
        kubelet.port, "/portForward/default/web", client_context(pki), ["portforward.k8s.io"]
    )
    try:
        client.writer.write(client.encoder.encode(spdy.Ping(1)))
        await client.until(lambda: spdy.Ping(1) in client.frames)
    finally:
        await client.close()


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    """A TCP server on loopback that answers each line with "echo: " + line, then EOF."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        writer.write(b"echo: " + line)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_spdy_port_forward_pairs_streams_by_request_id(
    kubelet: KubeletServer, pki: PKI, echo_port: int
) -> None:
    code, headers, client = await SpdyClient.connect(
        kubelet.port, "/portForward/default/web", client_context(pki), ["portforward.k8s.io"]
    )
    try:
        assert (code, headers["x-stream-protocol-version"]) == (101, "portforward.k8s.io")
        port = str(echo_port)
        error = client.open({"streamType": "error", "port": port, "requestID": "0"}, fin=True)
        data = client.open({"streamType": "data", "port": port, "requestID": "0"})
        client.send(data, b"hi\n")
        await client.until(lambda: data in client.finished)
        assert bytes(client.data[data]) == b"echo: hi\n"
        bad = client.open({"streamType": "data", "port": "x", "requestID": "1"})
        await client.until(lambda: spdy.RstStream(bad, spdy.CANCEL) in client.frames)
        assert not client.data.get(error)  # closed without an error message
    finally:
        await client.close()


async def test_spdy_port_forward_reports_a_refused_port(kubelet: KubeletServer, pki: PKI) -> None:
    _, _, client = await SpdyClient.connect(
        kubelet.port, "/portForward/default/web", client_context(pki), ["portforward.k8s.io"]
    )
    try:
        error = client.open({"streamType": "error", "port": "1", "requestID": "0"}, fin=True)
        client.open({"streamType": "data", "port": "1", "requestID": "0"})
        await client.until(lambda: error in client.finished)
        message = bytes(client.data[error]).decode()
        assert message.startswith("error forwarding port 1 to pod web, uid uid-web:")
    finally:
        await client.close()


async def test_websocket_port_forward_prefixes_each_channel_with_its_port(
    kubelet: KubeletServer, session: aiohttp.ClientSession, echo_port: int
) -> None:
    path = f"/portForward/default/web?ports={echo_port}"
    async with session.ws_connect(url(kubelet, path), protocols=["v4.channel.k8s.io"]) as ws:
        prefix = echo_port.to_bytes(2, "little")
        first = {(await ws.receive_bytes())[0:3] for _ in range(2)}
        assert first == {b"\x00" + prefix, b"\x01" + prefix}
        await ws.send_bytes(b"\x00line\n")
        received = b""
        async with asyncio.timeout(10):
            async for message in ws:
                if message.type == aiohttp.WSMsgType.BINARY and message.data[0] == 0:
                    received += message.data[1:]
        assert received == b"echo: line\n"


async def test_spdy_tunnelled_in_a_websocket(
    kubelet: KubeletServer, session: aiohttp.ClientSession, echo_port: int
) -> None:
    path = "/portForward/default/web"
    encoder, decoder = spdy.FrameEncoder(), spdy.FrameDecoder()
    async with session.ws_connect(
        url(kubelet, path), protocols=["SPDY/3.1+portforward.k8s.io"]
    ) as ws:
        assert ws.protocol == "SPDY/3.1+portforward.k8s.io"
        headers = {"port": [str(echo_port)], "requestid": ["0"]}
        await ws.send_bytes(encoder.encode(spdy.SynStream(1, {**headers, "streamtype": ["error"]})))
        await ws.send_bytes(encoder.encode(spdy.SynStream(3, {**headers, "streamtype": ["data"]})))
        await ws.send_bytes(encoder.encode(spdy.DataFrame(3, b"tunnel\n")))
        received, done = b"", False
        async with asyncio.timeout(10):
            while not done:
                for frame in decoder.feed(await ws.receive_bytes()):
                    if isinstance(frame, spdy.DataFrame) and frame.stream_id == 3:
                        received += frame.data
                        done = frame.fin
        assert received == b"echo: tunnel\n"


async def test_attach_streams_the_containers_stdio(
    kubelet: KubeletServer, session: aiohttp.ClientSession
) -> None:
    path = "/attach/default/web/app?stdin=1&stdout=1"
    async with session.ws_connect(url(kubelet, path), protocols=["v5.channel.k8s.io"]) as ws:
        await ws.send_bytes(b"\x00attached")
        await ws.send_bytes(b"\xff\x00")
        out = b""
        async with asyncio.timeout(10):
            async for message in ws:
                if message.type == aiohttp.WSMsgType.BINARY and message.data[0] == 1:
                    out += message.data[1:]
    assert out == b"attached"


async def test_container_logs(
    kubelet: KubeletServer, runtime: HostRuntime, session: aiohttp.ClientSession
) -> None:
    log_path = runtime.log_root / "default_web_uid-web" / "app" / "0.log"
    writer = logs.CriLogWriter(str(log_path))
    for index, line in enumerate([b"one\n", b"two\n", b"three\n"]):
        writer.write("stdout", line, 1_700_000_000_000_000_000 + index)
    writer.close()
    async with session.get(url(kubelet, "/containerLogs/default/web/app?tailLines=2")) as r:
        assert (r.status, await r.text()) == (200, "two\nthree\n")
    async with session.get(url(kubelet, "/containerLogs/default/web/app?previous=true")) as r:
        assert r.status == 400
        assert "previous terminated container" in (await r.json())["message"]
    async with session.get(url(kubelet, "/containerLogs/default/web/app?tailLines=x")) as r:
        assert r.status == 400


async def test_tty_sessions_have_no_stderr_and_pass_resizes_on(
    kubelet: KubeletServer, runtime: HostRuntime, session: aiohttp.ClientSession
) -> None:
    path = "/exec/default/web/app?command=cat&stdin=1&stdout=1&stderr=1&tty=1"
    async with session.ws_connect(url(kubelet, path), protocols=["v5.channel.k8s.io"]) as ws:
        await ws.send_bytes(b'\x04{"Width":120,"Height":40}')
        await ws.send_bytes(b"\x00typed")
        out = b""
        async with asyncio.timeout(10):
            while out != b"typed":
                message = await ws.receive_bytes()
                assert message[0] in (1, 3), "no stderr channel with a TTY"
                out += message[1:]
            await ws.send_bytes(b"\xff\x00")
            async for _ in ws:
                pass
    assert runtime.processes[-1].sizes == [(120, 40)]
    assert runtime.processes[-1].stderr is None


async def test_websocket_clients_must_share_a_protocol(
    kubelet: KubeletServer, session: aiohttp.ClientSession
) -> None:
    path = "/exec/default/web/app?command=true&stdout=1"
    with pytest.raises(aiohttp.WSServerHandshakeError) as failure:
        await session.ws_connect(url(kubelet, path), protocols=["v9.channel.k8s.io"])
    assert failure.value.status == 400
    async with session.ws_connect(url(kubelet, path)) as ws:  # none offered: binary v1
        assert ws.protocol is None
        messages = [m async for m in ws]
    assert [m.data for m in messages] == [b"\x01"]  # the "session open" message, no error


async def test_other_identities_are_forbidden(
    kubelet: KubeletServer, pki: PKI, tmp_path: Path
) -> None:
    issued = pki.certificate_authority().issue_client("system:node:other", ["system:nodes"])
    cert, key = tmp_path / "node.crt", tmp_path / "node.key"
    cert.write_bytes(issued.cert_pem)
    key.write_bytes(issued.key_pem)
    context = client_context(pki, with_cert=False)
    context.load_cert_chain(cert, key)
    connector = aiohttp.TCPConnector(ssl=context)
    async with (
        aiohttp.ClientSession(connector=connector) as other,
        other.get(url(kubelet, "/pods")) as r,
    ):
        assert r.status == 403
        assert (await r.json())["message"] == (
            "Forbidden (user=system:node:other, verb=get, resource=nodes, subresource=proxy)"
        )


@pytest.mark.parametrize("transport", ["websocket", "spdy"])
async def test_a_client_that_goes_away_ends_the_exec(
    kubelet: KubeletServer,
    runtime: HostRuntime,
    session: aiohttp.ClientSession,
    pki: PKI,
    transport: str,
) -> None:
    path = "/exec/default/web/app?command=sleep&command=60&stdout=1"
    async with asyncio.timeout(10):
        if transport == "websocket":
            protocols = ["v5.channel.k8s.io"]
            async with session.ws_connect(url(kubelet, path), protocols=protocols) as ws:
                await ws.receive_bytes()  # the session is open
                await runtime.started.wait()
        else:
            _, _, client = await SpdyClient.connect(
                kubelet.port, path, client_context(pki), ["v4.channel.k8s.io"]
            )
            client.open({"streamType": "error"}, fin=True)
            client.open({"streamType": "stdout"}, fin=True)
            await runtime.started.wait()
            await client.close()
        code = await runtime.processes[-1].proc.wait()
    assert code == -9  # killed, not finished
