"""The record index: which names and records Services and EndpointSlices make."""

from __future__ import annotations

from kybernetes.dns.records import SCHEMA_VERSION, SRV, RecordIndex, dashed, reverse_name

from .conftest import endpoint, endpoint_slice, service

Z = "cluster.local."


def test_cluster_ip_service_has_a_ptr_and_srv_for_named_ports() -> None:
    index = RecordIndex()
    ports = (
        {"name": "http", "port": 80, "protocol": "TCP"},
        {"name": "dns", "port": 53, "protocol": "UDP"},
        {"port": 9000},  # unnamed: no SRV
    )
    index.set_service(service("web", "shop", ports=ports))
    assert index.lookup(f"web.shop.svc.{Z}") == {"A": ["10.43.0.20"]}
    assert index.lookup("20.0.43.10.in-addr.arpa.") == {"PTR": [f"web.shop.svc.{Z}"]}
    assert index.lookup(f"_http._tcp.web.shop.svc.{Z}") == {
        "SRV": [SRV(0, 100, 80, f"web.shop.svc.{Z}")]
    }
    assert index.lookup(f"_dns._udp.web.shop.svc.{Z}") == {
        "SRV": [SRV(0, 100, 53, f"web.shop.svc.{Z}")]
    }
    assert index.lookup(f"_http._udp.web.shop.svc.{Z}") is None


def test_dual_stack_service_has_a_and_aaaa() -> None:
    index = RecordIndex()
    index.set_service(service("web", cluster_ips=("10.43.0.20", "fd00:43::20")))
    assert index.lookup(f"web.default.svc.{Z}") == {"A": ["10.43.0.20"], "AAAA": ["fd00:43::20"]}
    assert index.lookup(reverse_name("fd00:43::20")) == {"PTR": [f"web.default.svc.{Z}"]}


def test_headless_service_publishes_ready_endpoints_only() -> None:
    index = RecordIndex()
    index.set_service(service("db", cluster_ips=("None",)))
    index.set_slice(
        endpoint_slice(
            "db-abc",
            "db",
            [
                endpoint("10.42.0.5", hostname="db-0"),
                endpoint("10.42.0.6"),
                endpoint("10.42.0.7", ready=None),  # no condition: ready
                endpoint("10.42.0.8", ready=False),
            ],
        )
    )
    base = f"db.default.svc.{Z}"
    assert index.lookup(base) == {"A": ["10.42.0.5", "10.42.0.6", "10.42.0.7"]}
    assert index.lookup(f"db-0.{base}") == {"A": ["10.42.0.5"]}
    assert index.lookup(f"10-42-0-6.{base}") == {"A": ["10.42.0.6"]}
    assert index.lookup(f"10-42-0-8.{base}") is None
    assert index.lookup("5.0.42.10.in-addr.arpa.") == {"PTR": [f"db-0.{base}"]}
    assert index.lookup("6.0.42.10.in-addr.arpa.") == {"PTR": [f"10-42-0-6.{base}"]}
    assert index.lookup("8.0.42.10.in-addr.arpa.") is None
    srv = index.lookup(f"_http._tcp.{base}")
    assert srv == {
        "SRV": [
            SRV(0, 33, 8080, f"db-0.{base}"),
            SRV(0, 33, 8080, f"10-42-0-6.{base}"),
            SRV(0, 33, 8080, f"10-42-0-7.{base}"),
        ]
    }


def test_headless_service_merges_slices_and_follows_their_changes() -> None:
    index = RecordIndex()
    index.set_service(service("db", cluster_ips=("None",)))
    base = f"db.default.svc.{Z}"
    assert index.lookup(base) is None  # no ready endpoint: no name
    index.set_slice(endpoint_slice("db-1", "db", [endpoint("10.42.0.5")]))
    index.set_slice(endpoint_slice("db-2", "db", [endpoint("10.42.0.6"), endpoint("10.42.0.5")]))
    assert index.lookup(base) == {"A": ["10.42.0.5", "10.42.0.6"]}
    index.set_slice(endpoint_slice("db-1", "db", [endpoint("10.42.0.5", ready=False)]))
    assert index.lookup(base) == {"A": ["10.42.0.6", "10.42.0.5"]}  # db-2 still has .5
    index.delete_slice("default", "db-2")
    assert index.lookup(base) is None
    assert not index.exists(f"_tcp.{base}")
    index.set_slice(endpoint_slice("db-1", "other", [endpoint("10.42.0.5")]))  # relabelled
    assert index.lookup(base) is None
    assert index.lookup(f"other.default.svc.{Z}") is None  # no such Service yet
    index.set_service(service("other", cluster_ips=("None",)))
    assert index.lookup(f"other.default.svc.{Z}") == {"A": ["10.42.0.5"]}


def test_ipv6_endpoints_and_unlabelled_or_fqdn_slices() -> None:
    index = RecordIndex()
    index.set_service(service("db", cluster_ips=("None",)))
    index.set_slice(endpoint_slice("v6", "db", [endpoint("fd00:42::5")], address_type="IPv6"))
    index.set_slice(endpoint_slice("f", "db", [endpoint("example.com")], address_type="FQDN"))
    unlabelled = endpoint_slice("u", "db", [endpoint("10.42.0.9")])
    del unlabelled["metadata"]["labels"]
    index.set_slice(unlabelled)
    base = f"db.default.svc.{Z}"
    assert index.lookup(base) == {"AAAA": ["fd00:42::5"]}
    assert dashed("fd00:42::5") == "fd00-42--5"
    assert index.lookup(f"fd00-42--5.{base}") == {"AAAA": ["fd00:42::5"]}


def test_external_name_is_a_cname() -> None:
    index = RecordIndex()
    svc = service("ext", cluster_ips=(), ports=(), type="ExternalName")
    svc["spec"]["externalName"] = "DB.Example.com."
    index.set_service(svc)
    assert index.lookup(f"ext.default.svc.{Z}") == {"CNAME": ["db.example.com."]}


def test_empty_non_terminals_exist_until_their_last_name_goes() -> None:
    index = RecordIndex()
    assert index.exists(Z)
    assert not index.exists(f"svc.{Z}")
    index.set_service(service("web", "shop"))
    for name in (f"svc.{Z}", f"shop.svc.{Z}", f"_tcp.web.shop.svc.{Z}", "in-addr.arpa."):
        assert index.exists(name), name
        assert index.lookup(name) is None
    assert not index.exists(f"other.svc.{Z}")
    index.delete_service("shop", "web")
    assert not index.exists(f"svc.{Z}")
    assert not index.exists(f"web.shop.svc.{Z}")
    assert not index.exists("in-addr.arpa.")


def test_two_services_share_a_ptr_name() -> None:
    index = RecordIndex()
    for name in ("a", "b"):
        index.set_service(service(name, cluster_ips=("None",)))
        index.set_slice(endpoint_slice(f"{name}-1", name, [endpoint("10.42.0.5")]))
    ptr = "5.0.42.10.in-addr.arpa."
    assert index.lookup(ptr) == {
        "PTR": [f"10-42-0-5.a.default.svc.{Z}", f"10-42-0-5.b.default.svc.{Z}"]
    }
    index.delete_service("default", "a")
    assert index.lookup(ptr) == {"PTR": [f"10-42-0-5.b.default.svc.{Z}"]}


def test_generation_moves_only_when_records_change() -> None:
    index = RecordIndex("example.org")
    start = index.generation
    index.set_service(service("web"))
    changed = index.generation
    assert changed > start
    index.set_service(service("web"))  # a resync: same records
    assert index.generation == changed
    index.delete_service("default", "missing")
    assert index.generation == changed
    assert index.lookup("web.default.svc.example.org.") == {"A": ["10.43.0.20"]}


def test_schema_version_and_name_server_glue() -> None:
    index = RecordIndex()
    assert index.lookup(f"dns-version.{Z}") == {"TXT": [SCHEMA_VERSION]}
    assert index.lookup(f"ns.dns.{Z}") is None
    index.set_service(service("kube-dns", "kube-system", cluster_ips=("10.43.0.10",)))
    assert index.lookup(f"ns.dns.{Z}") == {"A": ["10.43.0.10"]}
    assert index.lookup(f"kube-dns.kube-system.svc.{Z}") == {"A": ["10.43.0.10"]}
    index.delete_service("kube-system", "kube-dns")
    assert index.lookup(f"ns.dns.{Z}") is None
