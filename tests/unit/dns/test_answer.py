"""Answers to queries, built and read with dnspython, for every record kind."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import pytest

from kybernetes.dns.answer import Answerer, pod_address
from kybernetes.dns.records import RecordIndex

from .conftest import endpoint, endpoint_slice, service

Z = "cluster.local."


@pytest.fixture
def index() -> RecordIndex:
    index = RecordIndex()
    index.set_service(service("web", "shop", cluster_ips=("10.43.0.20", "fd00:43::20")))
    index.set_service(service("db", "shop", cluster_ips=("None",)))
    index.set_slice(
        endpoint_slice(
            "db-1",
            "db",
            [endpoint("10.42.0.5", hostname="db-0"), endpoint("10.42.0.6")],
            namespace="shop",
        )
    )
    ext = service("ext", "shop", cluster_ips=(), ports=(), type="ExternalName")
    ext["spec"]["externalName"] = "db.example.com"
    index.set_service(ext)
    alias = service("alias", "shop", cluster_ips=(), ports=(), type="ExternalName")
    alias["spec"]["externalName"] = f"web.shop.svc.{Z}"
    index.set_service(alias)
    return index


def ask(answerer: Answerer, name: str, rdtype: str = "A", **kw: object) -> dns.message.Message:
    response = answerer.answer(dns.message.make_query(name, rdtype, **kw))  # type: ignore[arg-type]
    assert response is not None
    return response


def answers(response: dns.message.Message) -> list[str]:
    return sorted(
        f"{rrset.name} {rrset.ttl} {dns.rdatatype.to_text(rrset.rdtype)} {rdata}"
        for rrset in response.answer
        for rdata in rrset
    )


def test_cluster_ip_a_and_aaaa(index: RecordIndex) -> None:
    answerer = Answerer(index)
    response = ask(answerer, f"web.shop.svc.{Z}")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    assert answers(response) == [f"web.shop.svc.{Z} 5 A 10.43.0.20"]
    assert answers(ask(answerer, f"web.shop.svc.{Z}", "AAAA")) == [
        f"web.shop.svc.{Z} 5 AAAA fd00:43::20"
    ]


def test_the_name_is_matched_without_case_and_echoed_as_asked(index: RecordIndex) -> None:
    response = ask(Answerer(index, ttl=30), f"WEB.Shop.svc.{Z}")
    assert answers(response) == [f"WEB.Shop.svc.{Z} 30 A 10.43.0.20"]


def test_headless_a_answers_every_ready_endpoint(index: RecordIndex) -> None:
    answerer = Answerer(index)
    assert answers(ask(answerer, f"db.shop.svc.{Z}")) == [
        f"db.shop.svc.{Z} 5 A 10.42.0.5",
        f"db.shop.svc.{Z} 5 A 10.42.0.6",
    ]
    assert answers(ask(answerer, f"db-0.db.shop.svc.{Z}")) == [
        f"db-0.db.shop.svc.{Z} 5 A 10.42.0.5"
    ]


def test_srv_answers_carry_their_targets_addresses(index: RecordIndex) -> None:
    answerer = Answerer(index)
    response = ask(answerer, f"_http._tcp.db.shop.svc.{Z}", "SRV")
    assert answers(response) == [
        f"_http._tcp.db.shop.svc.{Z} 5 SRV 0 50 8080 10-42-0-6.db.shop.svc.{Z}",
        f"_http._tcp.db.shop.svc.{Z} 5 SRV 0 50 8080 db-0.db.shop.svc.{Z}",
    ]
    glue = sorted(f"{rrset.name} {rdata}" for rrset in response.additional for rdata in rrset)
    assert glue == [f"10-42-0-6.db.shop.svc.{Z} 10.42.0.6", f"db-0.db.shop.svc.{Z} 10.42.0.5"]
    response = ask(answerer, f"_http._tcp.web.shop.svc.{Z}", "SRV")
    assert answers(response) == [f"_http._tcp.web.shop.svc.{Z} 5 SRV 0 100 80 web.shop.svc.{Z}"]
    assert len(response.additional) == 2  # A and AAAA of the Service


def test_ptr_for_cluster_ips_and_headless_endpoints(index: RecordIndex) -> None:
    answerer = Answerer(index)
    response = ask(answerer, "20.0.43.10.in-addr.arpa.", "PTR")
    assert response.flags & dns.flags.AA
    assert answers(response) == [f"20.0.43.10.in-addr.arpa. 5 PTR web.shop.svc.{Z}"]
    assert answers(ask(answerer, "5.0.42.10.in-addr.arpa.", "PTR")) == [
        f"5.0.42.10.in-addr.arpa. 5 PTR db-0.db.shop.svc.{Z}"
    ]
    v6 = dns.message.make_query(dns.reversename.from_address("fd00:43::20"), "PTR")
    v6_response = answerer.answer(v6)
    assert v6_response is not None
    assert [str(r) for r in v6_response.answer[0]] == [f"web.shop.svc.{Z}"]


def test_unknown_reverse_names_go_upstream_or_are_refused(index: RecordIndex) -> None:
    query = dns.message.make_query("1.1.168.192.in-addr.arpa.", "PTR")
    assert Answerer(index, forwarding=True).answer(query) is None
    response = Answerer(index).answer(query)
    assert response is not None and response.rcode() == dns.rcode.REFUSED


def test_external_name_is_answered_with_a_cname(index: RecordIndex) -> None:
    answerer = Answerer(index)
    response = ask(answerer, f"ext.shop.svc.{Z}")
    assert response.rcode() == dns.rcode.NOERROR
    assert answers(response) == [f"ext.shop.svc.{Z} 5 CNAME db.example.com."]
    chased = ask(answerer, f"alias.shop.svc.{Z}")
    assert answers(chased) == [
        f"alias.shop.svc.{Z} 5 CNAME web.shop.svc.{Z}",
        f"web.shop.svc.{Z} 5 A 10.43.0.20",
    ]
    assert answers(ask(answerer, f"ext.shop.svc.{Z}", "CNAME")) == [
        f"ext.shop.svc.{Z} 5 CNAME db.example.com."
    ]


def test_unknown_names_are_nxdomain_with_the_soa(index: RecordIndex) -> None:
    answerer = Answerer(index)
    for name in (f"nope.shop.svc.{Z}", f"web.other.svc.{Z}", f"x.db-0.db.shop.svc.{Z}", f"a.{Z}"):
        response = ask(answerer, name)
        assert response.rcode() == dns.rcode.NXDOMAIN, name
        assert response.flags & dns.flags.AA
        assert not response.answer
        (soa,) = response.authority
        assert soa.rdtype == dns.rdatatype.SOA
        assert str(soa.name) == Z
        assert str(soa[0].mname) == f"ns.dns.{Z}" and soa[0].minimum == 5


def test_existing_names_without_the_type_are_nodata(index: RecordIndex) -> None:
    answerer = Answerer(index)
    for name, rdtype in (
        (f"web.shop.svc.{Z}", "MX"),
        (f"db.shop.svc.{Z}", "AAAA"),
        (f"shop.svc.{Z}", "A"),  # empty non-terminals
        (f"svc.{Z}", "A"),
        (f"_tcp.db.shop.svc.{Z}", "SRV"),
        (Z, "A"),
    ):
        response = ask(answerer, name, rdtype)
        assert response.rcode() == dns.rcode.NOERROR, name
        assert not response.answer, name
        assert [rrset.rdtype for rrset in response.authority] == [dns.rdatatype.SOA]


def test_apex_soa_and_ns_and_schema_version(index: RecordIndex) -> None:
    answerer = Answerer(index)
    (soa,) = ask(answerer, Z, "SOA").answer
    assert str(soa[0].rname) == f"hostmaster.{Z}"
    assert soa[0].serial == index.generation
    assert answers(ask(answerer, Z, "NS")) == [f"{Z} 5 NS ns.dns.{Z}"]
    assert not ask(answerer, Z, "NS").additional
    index.set_service(service("kube-dns", "kube-system", cluster_ips=("10.43.0.10",)))
    (glue,) = ask(answerer, Z, "NS").additional
    assert (str(glue.name), [str(r) for r in glue]) == (f"ns.dns.{Z}", ["10.43.0.10"])
    assert answers(ask(answerer, f"dns-version.{Z}", "TXT")) == [f'dns-version.{Z} 5 TXT "1.1.0"']


def test_pod_records_in_insecure_mode(index: RecordIndex) -> None:
    answerer = Answerer(index)
    assert answers(ask(answerer, f"10-42-0-9.shop.pod.{Z}")) == [
        f"10-42-0-9.shop.pod.{Z} 5 A 10.42.0.9"
    ]
    assert answers(ask(answerer, f"fd00-42--9.shop.pod.{Z}", "AAAA")) == [
        f"fd00-42--9.shop.pod.{Z} 5 AAAA fd00:42::9"
    ]
    assert ask(answerer, f"10-42-0-9.shop.pod.{Z}", "AAAA").rcode() == dns.rcode.NOERROR
    for bad in (f"not-an-ip.shop.pod.{Z}", f"x.10-42-0-9.shop.pod.{Z}"):
        assert ask(answerer, bad).rcode() == dns.rcode.NXDOMAIN
    assert ask(answerer, f"shop.pod.{Z}").rcode() == dns.rcode.NOERROR
    assert pod_address("10-42-0-300") is None


def test_names_outside_the_zone(index: RecordIndex) -> None:
    query = dns.message.make_query("example.com.", "A")
    assert Answerer(index, forwarding=True).answer(query) is None
    refused = Answerer(index).answer(query)
    assert refused is not None and refused.rcode() == dns.rcode.REFUSED
    assert not refused.flags & dns.flags.RA


def test_malformed_requests(index: RecordIndex) -> None:
    answerer = Answerer(index)
    notify = dns.message.make_query(f"web.shop.svc.{Z}", "SOA")
    notify.set_opcode(dns.opcode.NOTIFY)
    response = answerer.answer(notify)
    assert response is not None and response.rcode() == dns.rcode.NOTIMP
    empty = dns.message.make_query(f"web.shop.svc.{Z}", "A")
    empty.question = []
    response = answerer.answer(empty)
    assert response is not None and response.rcode() == dns.rcode.FORMERR
    chaos = dns.message.make_query(f"web.shop.svc.{Z}", "TXT", rdclass=dns.rdataclass.CH)
    response = answerer.answer(chaos)
    assert response is not None and response.rcode() == dns.rcode.REFUSED


def test_answers_follow_index_changes(index: RecordIndex) -> None:
    answerer = Answerer(index)
    index.delete_service("shop", "web")
    assert ask(answerer, f"web.shop.svc.{Z}").rcode() == dns.rcode.NXDOMAIN
    index.set_slice(endpoint_slice("db-1", "db", [endpoint("10.42.0.7")], namespace="shop"))
    assert answers(ask(answerer, f"db.shop.svc.{Z}")) == [f"db.shop.svc.{Z} 5 A 10.42.0.7"]
