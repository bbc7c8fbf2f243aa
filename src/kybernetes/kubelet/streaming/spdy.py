"""SPDY/3.1 framing, sans-IO: frames to bytes and bytes to frames.

This is the wire format of Kubernetes' `k8s.io/apimachinery/pkg/util/httpstream/spdy`
(moby/spdystream on Go's SPDY framer), which kubectl speaks for exec, attach and
port-forward after an `Upgrade: SPDY/3.1` (or inside a WebSocket, for port-forward).

Every frame starts with 8 bytes. A control frame: the control bit, version 3 and a
16-bit type, then 8 bits of flags and a 24-bit length. A data frame: a 31-bit stream
id, then flags and length. Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are
`count, (len name, name, len value, value)*` with 32-bit big-endian lengths, names
lower-cased and multiple values joined by NUL, compressed by ONE zlib stream per
direction for the whole connection, primed with SPDY/3's dictionary and flushed with
Z_SYNC_FLUSH after each block. So `FrameEncoder` and `FrameDecoder` are stateful and
each must see every frame of its direction, in order.

Invariants: `FrameDecoder.feed` never loses bytes (a partial frame waits for more);
a malformed frame raises `ProtocolError`, after which the connection is unusable.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

VERSION = 3
MAX_DATA_LENGTH = (1 << 24) - 1
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02

TYPE_SYN_STREAM = 1
TYPE_SYN_REPLY = 2
TYPE_RST_STREAM = 3
TYPE_SETTINGS = 4
TYPE_PING = 6
TYPE_GOAWAY = 7
TYPE_HEADERS = 8
TYPE_WINDOW_UPDATE = 9

# RST_STREAM status codes.
PROTOCOL_ERROR = 1
INVALID_STREAM = 2
REFUSED_STREAM = 3
CANCEL = 5
INTERNAL_ERROR = 6

_DICTIONARY_WORDS = (
    *[
        "options",
        "head",
        "post",
        "put",
        "delete",
        "trace",
        "accept",
        "accept-charset",
        "accept-encoding",
    ],
    *["accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control"],
    *["connection", "content-base", "content-encoding", "content-language", "content-length"],
    *["content-location", "content-md5", "content-range", "content-type", "date", "etag", "expect"],
    *["expires", "from", "host", "if-match", "if-modified-since", "if-none-match", "if-range"],
    *["if-unmodified-since", "last-modified", "location", "max-forwards", "pragma"],
    *["proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after", "server"],
    *["te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning"],
    *["www-authenticate", "method", "get", "status"],
    *("200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"),
)
_DICTIONARY_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417"
    "502504505203 Non-Authoritative Information204 No Content301 Moved Permanently"
    "400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error"
    "501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct "
    "Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,"
    "image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,"
    "publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
HEADER_DICTIONARY = (
    b"".join(struct.pack(">I", len(w)) + w.encode() for w in _DICTIONARY_WORDS)
    + _DICTIONARY_TAIL.encode()
)
"""SPDY/3's zlib dictionary (draft 3, section 2.6.10.1): 1423 bytes, Adler-32 0xe3c6a7c2."""

Headers = dict[str, list[str]]


class ProtocolError(ValueError):
    """The peer sent something that is not SPDY/3."""


@dataclass(frozen=True)
class DataFrame:
    stream_id: int
    data: bytes
    fin: bool = False


@dataclass(frozen=True)
class SynStream:
    stream_id: int
    headers: Headers
    associated_to: int = 0
    priority: int = 0
    fin: bool = False
    unidirectional: bool = False


@dataclass(frozen=True)
class SynReply:
    stream_id: int
    headers: Headers = field(default_factory=dict)
    fin: bool = False


@dataclass(frozen=True)
class RstStream:
    stream_id: int
    status: int


@dataclass(frozen=True)
class Settings:
    """(flags, id, value) triples."""

    entries: tuple[tuple[int, int, int], ...] = ()
    clear: bool = False


@dataclass(frozen=True)
class Ping:
    ping_id: int


@dataclass(frozen=True)
class GoAway:
    last_good_stream_id: int
    status: int = 0


@dataclass(frozen=True)
class HeadersFrame:
    stream_id: int
    headers: Headers
    fin: bool = False


@dataclass(frozen=True)
class WindowUpdate:
    stream_id: int
    delta: int


Frame = (
    DataFrame | SynStream | SynReply | RstStream | Settings | Ping | GoAway | HeadersFrame
) | WindowUpdate


def header_value(headers: Headers, name: str) -> str:
    """The first value of a header (names are lower-case on the wire), or ""."""
    values = headers.get(name.lower())
    return values[0] if values else ""


def encode_header_block(headers: Headers) -> bytes:
    """The uncompressed name/value block."""
    out = [struct.pack(">I", len(headers))]
    for name, values in headers.items():
        raw_name = name.lower().encode()
        raw_value = "\x00".join(values).encode()
        out += [struct.pack(">I", len(raw_name)), raw_name]
        out += [struct.pack(">I", len(raw_value)), raw_value]
    return b"".join(out)


def decode_header_block(block: bytes) -> Headers:
    """Parses an uncompressed name/value block; ProtocolError if it is malformed."""
    try:
        (count,) = struct.unpack_from(">I", block, 0)
        offset = 4
        headers: Headers = {}
        for _ in range(count):
            (length,) = struct.unpack_from(">I", block, offset)
            name = block[offset + 4 : offset + 4 + length].decode()
            offset += 4 + length
            (length,) = struct.unpack_from(">I", block, offset)
            value = block[offset + 4 : offset + 4 + length].decode()
            offset += 4 + length
            if offset > len(block):
                raise ProtocolError("truncated header block")
            headers.setdefault(name.lower(), []).extend(value.split("\x00"))
    except (struct.error, UnicodeDecodeError) as e:
        raise ProtocolError(f"malformed header block: {e}") from None
    return headers


def _control(frame_type: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | VERSION, frame_type, (flags << 24) | len(payload)) + payload


class FrameEncoder:
    """Serialises frames of one direction of a connection (owns its header compressor)."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(
            9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, HEADER_DICTIONARY
        )

    def _headers(self, headers: Headers) -> bytes:
        block = encode_header_block(headers)
        return self._compressor.compress(block) + self._compressor.flush(zlib.Z_SYNC_FLUSH)

    def encode(self, frame: Frame) -> bytes:
        """The frame's bytes. Data longer than MAX_DATA_LENGTH must be split by the caller."""
        if isinstance(frame, DataFrame):
            if len(frame.data) > MAX_DATA_LENGTH:
                raise ValueError("data frame too long")
            flags = FLAG_FIN if frame.fin else 0
            head = struct.pack(">II", frame.stream_id & 0x7FFFFFFF, (flags << 24) | len(frame.data))
            return head + frame.data
        if isinstance(frame, SynStream):
            flags = (FLAG_FIN if frame.fin else 0) | (
                FLAG_UNIDIRECTIONAL if frame.unidirectional else 0
            )
            payload = struct.pack(
                ">IIBB", frame.stream_id, frame.associated_to, (frame.priority & 7) << 5, 0
            )
            return _control(TYPE_SYN_STREAM, flags, payload + self._headers(frame.headers))
        if isinstance(frame, SynReply):
            payload = struct.pack(">I", frame.stream_id) + self._headers(frame.headers)
            return _control(TYPE_SYN_REPLY, FLAG_FIN if frame.fin else 0, payload)
        if isinstance(frame, HeadersFrame):
            payload = struct.pack(">I", frame.stream_id) + self._headers(frame.headers)
            return _control(TYPE_HEADERS, FLAG_FIN if frame.fin else 0, payload)
        if isinstance(frame, RstStream):
            return _control(TYPE_RST_STREAM, 0, struct.pack(">II", frame.stream_id, frame.status))
        if isinstance(frame, Settings):
            body = struct.pack(">I", len(frame.entries)) + b"".join(
                struct.pack(">II", (flags << 24) | ident, value)
                for flags, ident, value in frame.entries
            )
            return _control(TYPE_SETTINGS, 1 if frame.clear else 0, body)
        if isinstance(frame, Ping):
            return _control(TYPE_PING, 0, struct.pack(">I", frame.ping_id))
        if isinstance(frame, GoAway):
            payload = struct.pack(">II", frame.last_good_stream_id, frame.status)
            return _control(TYPE_GOAWAY, 0, payload)
        payload = struct.pack(">II", frame.stream_id, frame.delta)
        return _control(TYPE_WINDOW_UPDATE, 0, payload)


class FrameDecoder:
    """Parses frames of one direction of a connection (owns its header decompressor)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._decompressor = zlib.decompressobj(zdict=HEADER_DICTIONARY)

    def feed(self, data: bytes) -> list[Frame]:
        """Adds received bytes; returns the frames they complete, in order."""
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= 8:
            word0, word1 = struct.unpack_from(">II", self._buffer, 0)
            length = word1 & 0xFFFFFF
            if len(self._buffer) < 8 + length:
                break
            payload = bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            flags = word1 >> 24
            if word0 & 0x80000000:
                frame = self._control((word0 >> 16) & 0x7FFF, word0 & 0xFFFF, flags, payload)
                if frame is not None:
                    frames.append(frame)
            else:
                stream_id = word0 & 0x7FFFFFFF
                if stream_id == 0:
                    raise ProtocolError("stream id zero is disallowed")
                frames.append(DataFrame(stream_id, payload, bool(flags & FLAG_FIN)))
        return frames

    def _headers(self, compressed: bytes) -> Headers:
        try:
            block = self._decompressor.decompress(compressed)
        except zlib.error as e:
            raise ProtocolError(f"header decompression failed: {e}") from None
        return decode_header_block(block)

    def _control(self, version: int, kind: int, flags: int, payload: bytes) -> Frame | None:
        if version != VERSION:
            raise ProtocolError(f"unsupported SPDY version {version}")
        fin = bool(flags & FLAG_FIN)
        try:
            if kind == TYPE_SYN_STREAM:
                stream_id, associated, priority = struct.unpack_from(">IIB", payload)
                headers = self._headers(payload[10:])
                if stream_id == 0:
                    raise ProtocolError("stream id zero is disallowed")
                return SynStream(
                    stream_id & 0x7FFFFFFF,
                    headers,
                    associated & 0x7FFFFFFF,
                    priority >> 5,
                    fin,
                    bool(flags & FLAG_UNIDIRECTIONAL),
                )
            if kind in (TYPE_SYN_REPLY, TYPE_HEADERS):
                (stream_id,) = struct.unpack_from(">I", payload)
                headers = self._headers(payload[4:])
                if kind == TYPE_SYN_REPLY:
                    return SynReply(stream_id & 0x7FFFFFFF, headers, fin)
                return HeadersFrame(stream_id & 0x7FFFFFFF, headers, fin)
            if kind == TYPE_RST_STREAM:
                stream_id, status = struct.unpack_from(">II", payload)
                return RstStream(stream_id & 0x7FFFFFFF, status)
            if kind == TYPE_SETTINGS:
                (count,) = struct.unpack_from(">I", payload)
                entries = tuple(
                    (word >> 24, word & 0xFFFFFF, value)
                    for word, value in struct.iter_unpack(">II", payload[4 : 4 + 8 * count])
                )
                return Settings(entries, bool(flags & 1))
            if kind == TYPE_PING:
                return Ping(struct.unpack_from(">I", payload)[0])
            if kind == TYPE_GOAWAY:
                last, status = struct.unpack_from(">II", payload)
                return GoAway(last & 0x7FFFFFFF, status)
            if kind == TYPE_WINDOW_UPDATE:
                stream_id, delta = struct.unpack_from(">II", payload)
                return WindowUpdate(stream_id & 0x7FFFFFFF, delta & 0x7FFFFFFF)
        except struct.error as e:
            raise ProtocolError(f"malformed control frame of type {kind}: {e}") from None
        return None  # unknown control frame types are ignored, as SPDY/3 requires
