"""Kubernetes' WebSocket channel protocols (wsstream), sans-IO, and the exec Status.

Each WebSocket message carries one channel's data: binary protocols put the channel
number in the first byte; base64 protocols send text whose first character is the
channel digit ('0' + n) followed by the data in base64. `v4` makes the error channel
carry a JSON `metav1.Status` instead of a bare message; `v5` adds the CLOSE signal, a
message on channel 255 whose payload is the channel that will send no more data.

Remote command channels: 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize (JSON
`{"Width":..,"Height":..}`). Port-forward channels: 2i data and 2i+1 error for the
i-th requested port, the first message on each being the port, 2 bytes little-endian.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

CHANNEL = "channel.k8s.io"
BASE64_CHANNEL = "base64.channel.k8s.io"
V4_CHANNEL = "v4.channel.k8s.io"
V4_BASE64_CHANNEL = "v4.base64.channel.k8s.io"
V5_CHANNEL = "v5.channel.k8s.io"
SPDY_PORTFORWARD_TUNNEL = "SPDY/3.1+portforward.k8s.io"
"""kubectl's port-forward: SPDY carried in binary WebSocket messages."""

REMOTECOMMAND_PROTOCOLS = (V5_CHANNEL, V4_CHANNEL, V4_BASE64_CHANNEL, CHANNEL, BASE64_CHANNEL)
PORTFORWARD_PROTOCOLS = (V4_CHANNEL, V4_BASE64_CHANNEL, CHANNEL, BASE64_CHANNEL)

STDIN, STDOUT, STDERR, ERROR, RESIZE = range(5)
CLOSE = 255


class ChannelError(ValueError):
    """A message that does not follow the negotiated channel protocol."""


@dataclass(frozen=True)
class ChannelCodec:
    """Encodes and decodes the messages of one negotiated protocol ("" = binary v1)."""

    protocol: str = ""

    @property
    def binary(self) -> bool:
        return "base64" not in self.protocol

    @property
    def json_status(self) -> bool:
        """v4 and later report a JSON Status on the error channel."""
        return self.protocol.startswith(("v4.", "v5."))

    @property
    def close_signal(self) -> bool:
        return self.protocol == V5_CHANNEL

    def encode(self, channel: int, data: bytes) -> bytes | str:
        if self.binary:
            return bytes([channel]) + data
        return chr(ord("0") + channel) + base64.b64encode(data).decode()

    def decode(self, message: bytes | str) -> tuple[int, bytes]:
        """(channel, payload); ChannelError for an empty or malformed message. As
        wsstream, the frame type does not matter, only the negotiated encoding (the
        Python client sends text frames on binary protocols)."""
        raw = message.encode() if isinstance(message, str) else message
        if not raw:
            raise ChannelError("empty message")
        if self.binary:
            return raw[0], raw[1:]
        try:
            return raw[0] - ord("0"), base64.b64decode(raw[1:], validate=True)
        except (binascii.Error, ValueError) as e:
            raise ChannelError(f"invalid base64 data: {e}") from None


def negotiate(offered: Sequence[str], supported: Sequence[str]) -> str | None:
    """The first protocol the client offered that the server supports; "" when the
    client offered none (the original binary protocol); None when nothing matches."""
    if not offered:
        return ""
    return next((p for p in offered if p in supported), None)


def offered_protocols(header: str) -> list[str]:
    """The Sec-WebSocket-Protocol header's comma-separated list."""
    return [p.strip() for p in header.split(",") if p.strip()]


def port_prefix(port: int) -> bytes:
    """The first message on a port-forward channel: the port, uint16 little-endian."""
    return port.to_bytes(2, "little")


class ResizeDecoder:
    """Turns the resize channel's byte stream into (width, height) events; the stream
    is a sequence of JSON objects (Go's json.Decoder), possibly split anywhere."""

    def __init__(self) -> None:
        self._buffer = ""
        self._decoder = json.JSONDecoder()

    def feed(self, data: bytes) -> list[tuple[int, int]]:
        self._buffer += data.decode(errors="replace")
        sizes: list[tuple[int, int]] = []
        while self._buffer.strip():
            text = self._buffer.lstrip()
            try:
                value, end = self._decoder.raw_decode(text)
            except json.JSONDecodeError:
                break  # incomplete: wait for more
            self._buffer = text[end:]
            if isinstance(value, dict):
                sizes.append((int(value.get("Width") or 0), int(value.get("Height") or 0)))
        return sizes


def success_status() -> dict[str, Any]:
    return {"metadata": {}, "status": "Success"}


def exit_code_status(command: Sequence[str], code: int) -> dict[str, Any]:
    """The Status a non-zero exit reports (reason NonZeroExitCode, cause ExitCode),
    worded as the kubelet's CRI streaming server words it."""
    detail = f"error executing command [{' '.join(command)}], exit code {code}"
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: {detail}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def internal_error_status(message: str) -> dict[str, Any]:
    """apierrors.NewInternalError(message)."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {message}",
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    }


def status_bytes(status: dict[str, Any], *, as_json: bool) -> bytes:
    """What the error channel carries: the JSON Status (v4+), or for older protocols
    the error's message alone and nothing at all on success."""
    if as_json:
        return json.dumps(status, separators=(",", ":")).encode()
    if status.get("status") == "Success":
        return b""
    return str(status.get("message", "")).encode()
