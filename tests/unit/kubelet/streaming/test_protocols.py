"""The sans-IO protocol cores: SPDY/3.1 frames and header compression, WebSocket
channels, resize events and exec Statuses."""

from __future__ import annotations

import json
import struct
import zlib

import pytest

from kybernetes.kubelet.streaming import channels, spdy

FRAMES: list[spdy.Frame] = [
    spdy.DataFrame(1, b"payload", fin=True),
    spdy.DataFrame(3, b""),
    spdy.SynStream(5, {"streamtype": ["stdout"], "port": ["80"]}, priority=3, fin=True),
    spdy.SynStream(7, {"multi": ["a", "b"]}, associated_to=5, unidirectional=True),
    spdy.SynReply(5, {}),
    spdy.SynReply(7, {":status": ["200"]}, fin=True),
    spdy.RstStream(9, spdy.CANCEL),
    spdy.Settings(((0, 4, 100), (1, 7, 65536)), clear=True),
    spdy.Ping(11),
    spdy.GoAway(9, 0),
    spdy.HeadersFrame(5, {"x": ["y"]}, fin=True),
    spdy.WindowUpdate(5, 4096),
]


def test_the_header_dictionary_is_spdy3s() -> None:
    assert len(spdy.HEADER_DICTIONARY) == 1423
    assert zlib.adler32(spdy.HEADER_DICTIONARY) == 0xE3C6A7C2
    assert spdy.HEADER_DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")
    assert spdy.HEADER_DICTIONARY.endswith(b"utf-,*,enq=0.")


def test_every_frame_round_trips_through_one_compression_context() -> None:
    encoder, decoder = spdy.FrameEncoder(), spdy.FrameDecoder()
    wire = b"".join(encoder.encode(frame) for frame in FRAMES)
    assert decoder.feed(wire) == FRAMES


def test_frames_split_at_any_byte_are_reassembled() -> None:
    encoder, decoder = spdy.FrameEncoder(), spdy.FrameDecoder()
    wire = b"".join(encoder.encode(frame) for frame in FRAMES)
    decoded: list[spdy.Frame] = []
    for index in range(len(wire)):
        decoded += decoder.feed(wire[index : index + 1])
    assert decoded == FRAMES


def test_header_blocks_use_the_dictionary_and_a_shared_stream() -> None:
    """A peer decompressing with the SPDY dictionary (as Go's zlib.NewReaderDict does)
    reads our blocks; the second block relies on the first (one zlib stream)."""
    encoder = spdy.FrameEncoder()
    first = encoder.encode(spdy.SynReply(1, {"streamtype": ["error"]}))
    second = encoder.encode(spdy.SynReply(3, {"streamtype": ["error"]}))
    peer = zlib.decompressobj(zdict=spdy.HEADER_DICTIONARY)
    block = peer.decompress(first[12:])
    assert spdy.decode_header_block(block) == {"streamtype": ["error"]}
    assert len(second) < len(first)  # the repeat is a back-reference
    assert spdy.decode_header_block(peer.decompress(second[12:])) == {"streamtype": ["error"]}
    with pytest.raises(zlib.error):
        zlib.decompressobj().decompress(first[12:])  # needs the dictionary


def test_control_frame_layout_matches_the_spec() -> None:
    wire = spdy.FrameEncoder().encode(spdy.Ping(0x01020304))
    assert wire == bytes([0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 1, 2, 3, 4])
    data = spdy.FrameEncoder().encode(spdy.DataFrame(5, b"ab", fin=True))
    assert data == struct.pack(">II", 5, 0x01000002) + b"ab"


def test_header_names_are_lowercased_and_values_split_on_nul() -> None:
    block = spdy.encode_header_block({"StreamType": ["a", "b"]})
    assert spdy.decode_header_block(block) == {"streamtype": ["a", "b"]}
    assert spdy.header_value({"streamtype": ["a"]}, "streamType") == "a"


@pytest.mark.parametrize(
    "wire",
    [
        struct.pack(">HHI", 0x8002, 1, 0),  # SPDY/2
        struct.pack(">II", 0, 0),  # data on stream 0
        struct.pack(">HHI", 0x8003, 3, 2) + b"\x00\x00",  # truncated RST_STREAM
        struct.pack(">HHI", 0x8003, 2, 6) + b"\x00\x00\x00\x01" + b"\xff\xff",  # bad zlib
    ],
)
def test_malformed_frames_are_protocol_errors(wire: bytes) -> None:
    with pytest.raises(spdy.ProtocolError):
        spdy.FrameDecoder().feed(wire)


def test_unknown_control_frames_are_skipped() -> None:
    wire = struct.pack(">HHI", 0x8003, 0x10, 2) + b"xx" + spdy.FrameEncoder().encode(spdy.Ping(1))
    assert spdy.FrameDecoder().feed(wire) == [spdy.Ping(1)]


def test_binary_and_base64_channel_codecs() -> None:
    binary = channels.ChannelCodec(channels.V4_CHANNEL)
    assert binary.encode(1, b"hi") == b"\x01hi"
    assert binary.decode(b"\x00data") == (0, b"data")
    assert binary.decode("\x00text frame") == (0, b"text frame")  # the Python client's
    base64 = channels.ChannelCodec(channels.V4_BASE64_CHANNEL)
    assert base64.encode(2, b"hi") == "2aGk="
    assert base64.decode("0aGk=") == (0, b"hi")
    with pytest.raises(channels.ChannelError):
        base64.decode("0!!")
    with pytest.raises(channels.ChannelError):
        binary.decode(b"")


def test_protocol_features() -> None:
    assert channels.ChannelCodec(channels.V5_CHANNEL).close_signal
    assert not channels.ChannelCodec(channels.V4_CHANNEL).close_signal
    assert channels.ChannelCodec(channels.V4_BASE64_CHANNEL).json_status
    assert not channels.ChannelCodec(channels.CHANNEL).json_status
    assert not channels.ChannelCodec("").json_status


def test_negotiation_follows_the_clients_preference() -> None:
    supported = channels.REMOTECOMMAND_PROTOCOLS
    assert channels.negotiate(["v5.channel.k8s.io", "v4.channel.k8s.io"], supported) == (
        "v5.channel.k8s.io"
    )
    assert channels.negotiate(["v5.channel.k8s.io"], channels.PORTFORWARD_PROTOCOLS) is None
    assert channels.negotiate([], supported) == ""
    assert channels.offered_protocols(" a, b ,") == ["a", "b"]
    assert channels.port_prefix(8080) == b"\x90\x1f"


def test_resize_events_from_a_split_json_stream() -> None:
    decoder = channels.ResizeDecoder()
    assert decoder.feed(b'{"Width":80,"Hei') == []
    assert decoder.feed(b'ght":24}{"Width":100,"Height":40}\n') == [(80, 24), (100, 40)]


def test_exit_statuses_as_the_kubelet_writes_them() -> None:
    failure = channels.exit_code_status(["sh", "-c", "exit 3"], 3)
    assert json.loads(channels.status_bytes(failure, as_json=True)) == {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: error executing command "
        "[sh -c exit 3], exit code 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }
    success = channels.success_status()
    assert channels.status_bytes(success, as_json=True) == b'{"metadata":{},"status":"Success"}'
    assert channels.status_bytes(success, as_json=False) == b""
    assert channels.status_bytes(failure, as_json=False).startswith(b"command terminated")
    internal = channels.internal_error_status("boom")
    assert (internal["code"], internal["message"]) == (500, "Internal error occurred: boom")
