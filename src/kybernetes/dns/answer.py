"""`Answerer`: one DNS query in, its response out, from the `RecordIndex`.

Authoritative for the cluster zone (`cluster.local.`; AA set):
- a name with records of the asked type: NOERROR with them (SRV answers carry the
  targets' A/AAAA in the additional section; a CNAME is answered for any type and
  followed while its target stays in the zone; `external_target` names the target
  the server then resolves upstream, as CoreDNS does);
- a name that exists without that type (including empty non-terminals such as
  `ns.svc.ZONE`): NOERROR, no answer, the zone's SOA in authority (NODATA);
- any other name: NXDOMAIN with the SOA in authority;
- the apex answers SOA and NS (`ns.dns.ZONE`, with the kube-dns ClusterIPs as glue);
- pods, CoreDNS `pods insecure` mode: `a-b-c-d.NS.pod.ZONE` (IPv6: colons as
  dashes) answers A/AAAA with the address its first label spells, unchecked.
Reverse names (in-addr.arpa, ip6.arpa) of ClusterIPs and headless endpoints get their
PTR (AA set); other reverse names, and names outside the zone, are the upstream's:
`answer` returns None for those when forwarding is possible (the caller forwards),
REFUSED otherwise. Other opcodes: NOTIMP; not exactly one question: FORMERR; a class
other than IN (or ANY) in the zone: REFUSED.

Every record carries `ttl` (default 5 s, as CoreDNS's kubernetes plugin: clients see
endpoint changes within seconds); the SOA's minimum, which bounds negative caching,
is the same `ttl`. Pure: no I/O, no clock.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Sequence
from typing import Any, Final

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.CNAME import CNAME
from dns.rdtypes.ANY.NS import NS
from dns.rdtypes.ANY.PTR import PTR
from dns.rdtypes.ANY.SOA import SOA
from dns.rdtypes.ANY.TXT import TXT
from dns.rdtypes.IN.A import A
from dns.rdtypes.IN.AAAA import AAAA
from dns.rdtypes.IN.SRV import SRV

from .records import RecordIndex

IN: Final = dns.rdataclass.IN
REVERSE_ZONES: Final = (dns.name.from_text("in-addr.arpa."), dns.name.from_text("ip6.arpa."))
MAX_CNAME_CHAIN: Final = 8
DEFAULT_TTL: Final = 5


def _new(cls: type[dns.rdata.Rdata], rdtype: int, *args: Any) -> dns.rdata.Rdata:
    """An IN-class record of `cls` (dnspython's record constructors are untyped)."""
    factory: Callable[..., dns.rdata.Rdata] = cls
    return factory(IN, rdtype, *args)


@functools.lru_cache(maxsize=65536)
def _rdata(rdtype: str, value: Any) -> dns.rdata.Rdata:
    """The wire record of an index value (see `records.Records`); records are
    immutable, so one object serves every answer that carries it."""
    if rdtype == "A":
        return _new(A, dns.rdatatype.A, value)
    if rdtype == "AAAA":
        return _new(AAAA, dns.rdatatype.AAAA, value)
    if rdtype == "SRV":
        target = dns.name.from_text(value.target)
        return _new(SRV, dns.rdatatype.SRV, value.priority, value.weight, value.port, target)
    if rdtype == "PTR":
        return _new(PTR, dns.rdatatype.PTR, dns.name.from_text(value))
    if rdtype == "CNAME":
        return _new(CNAME, dns.rdatatype.CNAME, dns.name.from_text(value))
    if rdtype == "TXT":
        return _new(TXT, dns.rdatatype.TXT, [value.encode()])
    raise ValueError(f"unknown record type {rdtype}")


def pod_address(label: str) -> str | None:
    """The address a pod record's first label spells (`10-1-2-3`, `fd00--1`), or None."""
    for candidate in (label.replace("-", "."), label.replace("-", ":")):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


class Answerer:
    """Answers queries from `index`; see the module docstring. `forwarding` says
    whether names outside the zone may be left to an upstream (`answer` → None)."""

    def __init__(
        self, index: RecordIndex, *, ttl: int = DEFAULT_TTL, forwarding: bool = False
    ) -> None:
        self.index = index
        self.ttl = ttl
        self.forwarding = forwarding
        self.zone = dns.name.from_text(index.zone)
        self._pod_zone = dns.name.from_text("pod", self.zone)
        self._ns_name = dns.name.from_text("ns.dns", self.zone)

    def answer(self, query: dns.message.Message) -> dns.message.Message | None:
        """The response to `query`, or None when an upstream should answer it."""
        response = dns.message.make_response(query, recursion_available=self.forwarding)
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        qname, qtype = question.name, question.rdtype
        if qname.is_subdomain(self.zone):
            if question.rdclass not in (IN, dns.rdataclass.ANY):
                response.set_rcode(dns.rcode.REFUSED)
                return response
            response.flags |= dns.flags.AA
            self._authoritative(response, qname, qtype)
            return response
        if any(qname.is_subdomain(z) for z in REVERSE_ZONES):
            records = self.index.lookup(qname.to_text().lower())
            if records and "PTR" in records:
                response.flags |= dns.flags.AA
                if qtype in (dns.rdatatype.PTR, dns.rdatatype.ANY):
                    self._add(response.answer, qname, "PTR", records["PTR"])
                else:
                    response.authority.append(self._soa())
                return response
        if self.forwarding:
            return None
        response.set_rcode(dns.rcode.REFUSED)
        return response

    def external_target(
        self, query: dns.message.Message, response: dns.message.Message
    ) -> dns.name.Name | None:
        """The name still to resolve when `response` ends at a CNAME that leaves the
        zone (an ExternalName Service) and the client asked another type, else None.
        CoreDNS resolves it upstream and appends the records; so does the server."""
        if not response.answer or not query.question:
            return None
        if query.question[0].rdtype in (dns.rdatatype.CNAME, dns.rdatatype.ANY):
            return None
        last = response.answer[-1]
        if last.rdtype != dns.rdatatype.CNAME:
            return None
        target: dns.name.Name = last[0].target
        return None if target.is_subdomain(self.zone) else target

    # --- the zone --------------------------------------------------------------------

    def _authoritative(
        self, response: dns.message.Message, qname: dns.name.Name, qtype: int
    ) -> None:
        if qname == self.zone and qtype in (dns.rdatatype.SOA, dns.rdatatype.NS):
            if qtype == dns.rdatatype.SOA:
                response.answer.append(self._soa())
            else:
                ns = dns.rrset.RRset(self.zone, IN, dns.rdatatype.NS)
                ns.add(_new(NS, dns.rdatatype.NS, self._ns_name), self.ttl)
                response.answer.append(ns)
                self._glue(response, self._ns_name.to_text())
            return
        if qname.is_subdomain(self._pod_zone):
            self._pod(response, qname, qtype)
            return
        name = qname
        for _ in range(MAX_CNAME_CHAIN):
            records = self.index.lookup(name.to_text().lower())
            if records is None:
                if name == qname:  # a CNAME's target that is not here is the client's
                    self._negative(
                        response, nxdomain=not self.index.exists(qname.to_text().lower())
                    )
                return
            if "CNAME" in records and qtype != dns.rdatatype.CNAME:
                self._add(response.answer, name, "CNAME", records["CNAME"])
                name = dns.name.from_text(records["CNAME"][0])
                if not name.is_subdomain(self.zone):
                    return
                continue
            wanted = [t for t in records if qtype in (dns.rdatatype.ANY, _type(t))]
            for rdtype in wanted:
                self._add(response.answer, name, rdtype, records[rdtype])
                if rdtype == "SRV":
                    self._srv_glue(response, records["SRV"])
            if not wanted and name == qname:
                self._negative(response, nxdomain=False)
            return

    def _pod(self, response: dns.message.Message, qname: dns.name.Name, qtype: int) -> None:
        relative = qname.relativize(self._pod_zone).labels
        if len(relative) < 2:  # pod.ZONE and NS.pod.ZONE: empty non-terminals
            self._negative(response, nxdomain=False)
            return
        address = pod_address(relative[0].decode().lower()) if len(relative) == 2 else None
        if address is None:
            self._negative(response, nxdomain=True)
            return
        rdtype = "A" if ipaddress.ip_address(address).version == 4 else "AAAA"
        if qtype in (dns.rdatatype.ANY, _type(rdtype)):
            self._add(response.answer, qname, rdtype, [address])
        else:
            self._negative(response, nxdomain=False)

    def _srv_glue(self, response: dns.message.Message, records: Sequence[Any]) -> None:
        for srv in records:
            self._glue(response, srv.target)

    def _glue(self, response: dns.message.Message, target: str) -> None:
        """The A/AAAA records of `target` (an index name) into the additional section."""
        records = self.index.lookup(target) or {}
        for rdtype in ("A", "AAAA"):
            if rdtype in records:
                owner = dns.name.from_text(target)
                self._add(response.additional, owner, rdtype, records[rdtype])

    def _negative(self, response: dns.message.Message, *, nxdomain: bool) -> None:
        if nxdomain:
            response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(self._soa())

    def _soa(self) -> dns.rrset.RRset:
        soa = dns.rrset.RRset(self.zone, IN, dns.rdatatype.SOA)
        hostmaster = dns.name.from_text("hostmaster", self.zone)
        serial = self.index.generation % 2**32
        rdata = _new(
            SOA, dns.rdatatype.SOA, self._ns_name, hostmaster, serial, 7200, 1800, 86400, self.ttl
        )
        soa.add(rdata, self.ttl)
        return soa

    def _add(
        self,
        section: list[dns.rrset.RRset],
        owner: dns.name.Name,
        rdtype: str,
        values: Sequence[Any],
    ) -> None:
        rrset = dns.rrset.RRset(owner, IN, _type(rdtype))
        for value in values:
            rrset.add(_rdata(rdtype, value), self.ttl)
        section.append(rrset)


def _type(rdtype: str) -> dns.rdatatype.RdataType:
    return dns.rdatatype.RdataType.make(rdtype)
