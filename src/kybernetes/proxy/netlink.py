"""Small `nft -f` transactions sent to the kernel over netlink, skipping the `nft` program.

`nft` reads the whole table's chain and set lists before every transaction, so one
Service change at 10k Services costs ~150 ms of CPU however small the transaction.
`NetlinkRunner(fallback, netns)` is a `Runner` for the nftables applier that compiles
the scripts it understands (the incremental transactions: add/flush/delete chain, add
rule, add/delete set, add/delete element, all in `ip kube-proxy`) into one nf_tables
netlink batch, which the kernel applies atomically, like `nft -f`; any other script
(the full table, cleanup) goes to `fallback` (the real `nft`).

The rule compiler covers exactly the statements the applier writes (`ip saddr|daddr
[!=] ADDR|CIDR|@set`, `tcp|udp|sctp dport N`, `meta l4proto P`, `fib saddr type
local`, `numgen random mod N V`, `update @set { ip saddr }`, `dnat to IP:PORT`,
`jump|goto CHAIN`, `drop`) and encodes them as `nft` does (16-byte registers 1 and 2,
verdict register 0), so `nft list` shows them unchanged. Anything else raises
`Unsupported`, which means "use the fallback", never a partial send.
"""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import os
import socket
import struct
from collections.abc import Sequence

from .command import CommandError, Runner

NETLINK_NETFILTER = 12
NFNL_SUBSYS_NFTABLES = 10
BATCH_BEGIN, BATCH_END = 16, 17
NEWCHAIN, DELCHAIN, NEWRULE, DELRULE, NEWSET, DELSET, NEWSETELEM, DELSETELEM = (
    3,
    5,
    6,
    8,
    9,
    11,
    12,
    14,
)
F_REQUEST, F_ACK, F_CREATE, F_APPEND = 0x1, 0x4, 0x400, 0x800
NLMSG_ERROR = 2
VERDICTS = {"jump": -3, "goto": -4}
NF_DROP = 0
PROTOCOLS = {"tcp": 6, "udp": 17, "sctp": 132}
TABLE = "kube-proxy"
CLONE_NEWNET = 0x40000000
MAX_BATCH = 128 * 1024  # bytes: well within the default socket buffer


class Unsupported(Exception):
    """The script uses something this compiler does not handle: run `nft` instead."""


def _attr(kind: int, payload: bytes) -> bytes:
    header = struct.pack("=HH", 4 + len(payload), kind)
    return header + payload + b"\0" * (-len(payload) % 4)


def _str(kind: int, value: str) -> bytes:
    return _attr(kind, value.encode() + b"\0")


def _u32(kind: int, value: int) -> bytes:
    return _attr(kind, struct.pack(">I", value))


def _value(kind: int, data: bytes) -> bytes:
    return _attr(kind, _attr(1, data))  # NFTA_DATA_VALUE


def _verdict(kind: int, code: int, chain: str = "") -> bytes:
    inner = _attr(1, struct.pack(">i", code)) + (_str(2, chain) if chain else b"")
    return _attr(kind, _attr(2, inner))  # NFTA_DATA_VERDICT


def _expr(name: str, *attrs: bytes) -> bytes:
    return _attr(1, _str(1, name) + _attr(2, b"".join(attrs)))  # LIST_ELEM{NAME, DATA}


def _payload(base: int, offset: int, length: int) -> bytes:
    return _expr("payload", _u32(1, 1), _u32(2, base), _u32(3, offset), _u32(4, length))


def _cmp(data: bytes, neq: bool = False) -> bytes:
    return _expr("cmp", _u32(1, 1), _u32(2, 1 if neq else 0), _value(3, data))


def _ip_match(field: str, neq: bool, value: str) -> list[bytes]:
    load = _payload(1, 12 if field == "saddr" else 16, 4)  # network header
    if value.startswith("@"):
        if neq:
            raise Unsupported("!= @set")
        return [load, _expr("lookup", _str(1, value[1:]), _u32(2, 1))]
    net = ipaddress.IPv4Network(value)
    if net.prefixlen == 32:
        return [load, _cmp(net.network_address.packed, neq)]
    mask = _expr(
        "bitwise", _u32(1, 1), _u32(2, 1), _u32(3, 4),
        _value(4, net.netmask.packed), _value(5, b"\0\0\0\0"),
    )  # fmt: skip
    return [load, mask, _cmp(net.network_address.packed, neq)]


def _l4proto(proto: str) -> list[bytes]:
    if proto not in PROTOCOLS:
        raise Unsupported(proto)
    return [_expr("meta", _u32(1, 1), _u32(2, 16)), _cmp(bytes([PROTOCOLS[proto]]))]  # l4proto


def compile_rule(rule: str) -> bytes:
    """The NFTA_RULE_EXPRESSIONS payload of one rule; Unsupported otherwise."""
    try:
        return _compile_rule(rule.split())
    except (ValueError, IndexError, KeyError) as e:
        raise Unsupported(rule) from e


def _compile_rule(t: list[str]) -> bytes:
    exprs: list[bytes] = []
    i = 0
    while i < len(t):
        word = t[i]
        if word == "ip" and t[i + 1] in ("saddr", "daddr"):
            neq = t[i + 2] == "!="
            value = t[i + 3] if neq else t[i + 2]
            exprs += _ip_match(t[i + 1], neq, value)
            i += 4 if neq else 3
        elif word in PROTOCOLS and t[i + 1] == "dport":
            exprs += _l4proto(word)
            exprs += [_payload(2, 2, 2), _cmp(struct.pack(">H", int(t[i + 2])))]
            i += 3
        elif word == "meta" and t[i + 1] == "l4proto":
            exprs += _l4proto(t[i + 2])
            i += 3
        elif t[i : i + 4] == ["fib", "saddr", "type", "local"]:
            exprs += [_expr("fib", _u32(1, 1), _u32(2, 3), _u32(3, 1)), _cmp(struct.pack("=I", 2))]
            i += 4
        elif t[i : i + 3] == ["numgen", "random", "mod"]:
            numgen = _expr("numgen", _u32(1, 1), _u32(2, int(t[i + 3])), _u32(3, 1), _u32(4, 0))
            exprs += [numgen, _cmp(struct.pack("=I", int(t[i + 4])))]
            i += 5
        elif word == "update" and t[i + 2 : i + 6] == ["{", "ip", "saddr", "}"]:
            dynset = _expr("dynset", _str(1, t[i + 1][1:]), _u32(3, 1), _u32(4, 1))
            exprs += [_payload(1, 12, 4), dynset]
            i += 6
        elif word == "dnat" and t[i + 1] == "to":
            address, _, port = t[i + 2].partition(":")
            exprs += [
                _expr("immediate", _u32(1, 1), _value(2, ipaddress.IPv4Address(address).packed)),
                _expr("immediate", _u32(1, 2), _value(2, struct.pack(">H", int(port)))),
                _expr("nat", _u32(1, 1), _u32(2, 2), _u32(3, 1), _u32(5, 2), _u32(7, 2)),
            ]
            i += 3
        elif word in VERDICTS:
            exprs.append(_expr("immediate", _u32(1, 0), _verdict(2, VERDICTS[word], t[i + 1])))
            i += 2
        elif word == "drop":
            exprs.append(_expr("immediate", _u32(1, 0), _verdict(2, NF_DROP)))
            i += 1
        else:
            raise Unsupported(f"statement {word!r}")
    return b"".join(exprs)


def _split_key(text: str) -> list[str]:
    return [p.strip() for p in text.split(" . ")] if " . " in text else [text.strip()]


def _element_key(text: str) -> bytes:
    out = b""
    parts = _split_key(text)
    for part in parts:
        if part in PROTOCOLS:
            field = bytes([PROTOCOLS[part]])
        elif part.isdigit():
            field = struct.pack(">H", int(part))
        else:
            field = ipaddress.IPv4Address(part).packed
        out += field + b"\0" * (-len(field) % 4) if len(parts) > 1 else field
    return out


def _elements(body: str, with_data: bool) -> bytes:
    out = b""
    for item in body.split(","):
        key, _, data = item.partition(" : ")
        attrs = _attr(1, _attr(1, _element_key(key)))  # SET_ELEM_KEY{DATA_VALUE}
        if with_data and data.strip():
            words = data.split()
            code = NF_DROP if words == ["drop"] else VERDICTS[words[0]]
            attrs += _verdict(2, code, words[1] if len(words) > 1 else "")
        out += _attr(1, attrs)
    return out


def compile_script(script: str) -> list[tuple[int, int, bytes]]:
    """(message type, flags, attributes) per command line; Unsupported otherwise."""
    prefix = f"ip {TABLE} "
    messages: list[tuple[int, int, bytes]] = []
    table = _str(1, TABLE)
    for line in filter(None, script.splitlines()):
        verb, _, rest = line.partition(" ")
        kind, _, rest = rest.partition(" ")
        if not rest.startswith(prefix):
            raise Unsupported(line)
        rest = rest[len(prefix) :]
        name, _, tail = rest.partition(" ")
        match verb, kind:
            case "add", "chain" if not tail:
                messages.append((NEWCHAIN, F_CREATE, table + _str(3, name)))
            case "delete", "chain" if not tail:
                messages.append((DELCHAIN, 0, table + _str(3, name)))
            case "flush", "chain" if not tail:
                messages.append((DELRULE, 0, table + _str(2, name)))
            case "add", "rule":
                expressions = _attr(4, compile_rule(tail))
                messages.append((NEWRULE, F_CREATE | F_APPEND, table + _str(2, name) + expressions))
            case "add", "set":
                words = tail.strip("{} ").replace(";", " ").split()
                if words[:2] != ["type", "ipv4_addr"] or words[2:4] != ["flags", "dynamic,timeout"]:
                    raise Unsupported(line)
                seconds = int(words[5].rstrip("s"))
                attrs = table + _str(2, name) + _u32(3, 0x10 | 0x20) + _u32(4, 7) + _u32(5, 4)
                attrs += _attr(11, struct.pack(">Q", seconds * 1000)) + _u32(10, len(messages) + 1)
                messages.append((NEWSET, F_CREATE, attrs))
            case "delete", "set" if not tail:
                messages.append((DELSET, 0, table + _str(2, name)))
            case (("add" | "delete"), "element"):
                body = tail.strip().removeprefix("{").removesuffix("}").strip()
                elements = _elements(body, with_data=verb == "add")
                msg = NEWSETELEM if verb == "add" else DELSETELEM
                messages.append(
                    (
                        msg,
                        F_CREATE if verb == "add" else 0,
                        table + _str(2, name) + _attr(3, elements),
                    )
                )
            case _:
                raise Unsupported(line)
    return messages


def _batch(messages: Sequence[tuple[int, int, bytes]], seq: int) -> bytes:
    def message(kind: int, flags: int, attrs: bytes, seq: int, res_id: int = 0) -> bytes:
        body = struct.pack("=BBH", socket.AF_INET, 0, socket.htons(res_id)) + attrs
        return struct.pack("=IHHII", 16 + len(body), kind, F_REQUEST | flags, seq, 0) + body

    out = message(BATCH_BEGIN, 0, b"", seq, NFNL_SUBSYS_NFTABLES)
    for n, (kind, flags, attrs) in enumerate(messages, 1):
        out += message((NFNL_SUBSYS_NFTABLES << 8) | kind, flags | F_ACK, attrs, seq + n)
    return out + message(BATCH_END, 0, b"", seq + len(messages) + 1, NFNL_SUBSYS_NFTABLES)


def _open_socket(netns: str) -> socket.socket:
    if not netns:
        return socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {netns}")
        try:
            return socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)


class NetlinkRunner:
    """A `Runner` sending `nft -f` scripts it can compile over netlink (in the named
    network namespace, default this one) and everything else to `fallback`. The
    socket is opened on first use and kept; the exchange is synchronous (the kernel
    applies a batch inside `sendto`)."""

    def __init__(self, fallback: Runner, netns: str = "") -> None:
        self._fallback = fallback
        self._netns = netns
        self._sock: socket.socket | None = None
        self._seq = 1

    async def __call__(self, argv: Sequence[str], stdin: bytes) -> str:
        if list(argv) != ["nft", "-f", "/dev/stdin"]:
            return await self._fallback(argv, stdin)
        try:
            messages = compile_script(stdin.decode())
        except (Unsupported, ValueError, IndexError, KeyError):  # (malformed ones too)
            return await self._fallback(argv, stdin)
        batch = _batch(messages, self._seq)
        if len(batch) > MAX_BATCH:  # beyond socket buffers: let nft split it
            return await self._fallback(argv, stdin)
        if self._sock is None:
            self._sock = _open_socket(self._netns)
            self._sock.settimeout(5)
        sock, seq = self._sock, self._seq
        self._seq = seq + len(messages) + 2
        sock.sendto(batch, (0, 0))
        pending = set(range(seq + 1, seq + len(messages) + 1))
        while pending:
            data = sock.recv(65536)
            while data:
                length, kind, _, got = struct.unpack_from("=IHHI", data)
                if kind == NLMSG_ERROR and (code := struct.unpack_from("=i", data, 16)[0]):
                    self.close()  # drops the batch's remaining answers
                    lines = stdin.decode().splitlines()
                    line = lines[got - seq - 1] if 0 <= got - seq - 1 < len(lines) else ""
                    name = errno.errorcode.get(-code, "")
                    raise CommandError(argv, 1, f"{os.strerror(-code)} ({name}): {line}")
                pending.discard(got)
                data = data[(length + 3) & ~3 :]
        return ""

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
