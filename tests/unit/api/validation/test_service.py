"""Services, Endpoints and EndpointSlices."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api.validation import validate, validate_status_update, validate_update

from .samples import changed, messages, service

PORT_NAME = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def test_a_valid_service_has_no_errors() -> None:
    assert validate("", "Service", service()) == []


def _port(port: int, **fields: Any) -> dict[str, Any]:
    return {"protocol": "TCP", "port": port, "targetPort": port, **fields}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({"ports": []}, ["spec.ports: Required value"], id="ports required"),
        pytest.param({"ports": [], "clusterIP": "None", "clusterIPs": ["None"]}, [], id="headless"),
        pytest.param(
            {"ports": [_port(80), _port(81)]},
            ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"],
            id="names when several",
        ),
        pytest.param(
            {"ports": [_port(80, name="http"), _port(81, name="http")]},
            ['spec.ports[1].name: Duplicate value: "http"'],
            id="unique names",
        ),
        pytest.param(
            {"ports": [_port(80, name="HTTP")]},
            [f'spec.ports[0].name: Invalid value: "HTTP": {PORT_NAME}'],
            id="port name",
        ),
        pytest.param(
            {"ports": [_port(0)]},
            [
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, "
                "inclusive",
            ],
            id="port range",
        ),
        pytest.param(
            {"ports": [{"protocol": "HTTP", "port": 80, "targetPort": "web-http"}]},
            [
                'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", '
                '"TCP", "UDP"'
            ],
            id="protocol",
        ),
        pytest.param(
            {"ports": [{"protocol": "TCP", "port": 80, "targetPort": "web_http"}]},
            [
                'spec.ports[0].targetPort: Invalid value: "web_http": must contain only '
                "alpha-numeric characters (a-z, 0-9), and hyphens (-)"
            ],
            id="target port name",
        ),
        pytest.param(
            {"ports": [_port(80, name="a"), _port(80, name="b")]},
            ['spec.ports[1]: Duplicate value: {"port":80,"protocol":"TCP"}'],
            id="duplicate port",
        ),
        pytest.param(
            {"type": "Internal"},
            [
                'spec.type: Unsupported value: "Internal": supported values: "ClusterIP", '
                '"ExternalName", "LoadBalancer", "NodePort"'
            ],
            id="type",
        ),
        pytest.param(
            {"ports": [_port(80, nodePort=30080)]},
            ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
            id="node port on cluster IP",
        ),
        pytest.param(
            {"sessionAffinity": "Sticky"},
            [
                'spec.sessionAffinity: Unsupported value: "Sticky": supported values: '
                '"ClientIP", "None"'
            ],
            id="session affinity",
        ),
        pytest.param(
            {
                "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 0}},
            },
            [
                "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be "
                "greater than 0 and less than 86400"
            ],
            id="affinity timeout",
        ),
        pytest.param(
            {"selector": {"app": "a b"}},
            [
                'spec.selector: Invalid value: "a b": a valid label must be an empty string or '
                "consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                "with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
                "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
            ],
            id="selector labels",
        ),
        pytest.param(
            {"externalIPs": ["127.0.0.1"]},
            [
                'spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback '
                "range (127.0.0.0/8, ::1/128)",
                "spec.externalTrafficPolicy: Required value",
            ],
            id="external IPs",
        ),
        pytest.param(
            {
                "type": "NodePort",
                "clusterIP": "None",
                "clusterIPs": ["None"],
                "externalTrafficPolicy": "Cluster",
            },
            [
                "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for "
                "NodePort services"
            ],
            id="headless node port",
        ),
        pytest.param(
            {"clusterIPs": ["10.96.0.10", "10.96.0.11"], "ipFamilyPolicy": "PreferDualStack"},
            [
                'spec.clusterIPs: Invalid value: []string{"10.96.0.10", "10.96.0.11"}: may '
                "specify no more than one IP for each IP family"
            ],
            id="dual stack",
        ),
        pytest.param(
            {"type": "LoadBalancer", "externalTrafficPolicy": "Cluster"},
            ["allocateLoadBalancerNodePorts: Required value"],
            id="load balancer defaults",
        ),
        pytest.param(
            {"loadBalancerSourceRanges": ["10.0.0.0/8"]},
            [
                "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is "
                "'LoadBalancer'"
            ],
            id="source ranges",
        ),
    ],
)
def test_service_rules(spec: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("", "Service", service(**spec))) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({"externalName": "db.example.com."}, [], id="valid"),
        pytest.param({"externalName": ""}, ["spec.externalName: Required value"], id="required"),
        pytest.param(
            {"externalName": "db.example.com", "clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"]},
            ["spec.clusterIPs: Forbidden: may not be set for ExternalName services"],
            id="cluster IP",
        ),
    ],
)
def test_external_name_services(spec: dict[str, Any], expected: list[str]) -> None:
    base = service(type="ExternalName", ports=[])
    for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"):
        base["spec"].pop(key)
    base["spec"].update(spec)
    assert messages(validate("", "Service", base)) == expected


def test_cluster_ips_may_not_change() -> None:
    old = service()
    new = service(clusterIP="10.96.0.11", clusterIPs=["10.96.0.11"])
    assert messages(validate_update("", "Service", new, old)) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set'
    ]
    renamed = changed(old, lambda s: s["spec"]["ports"][0].update(name="http"))
    assert validate_update("", "Service", renamed, old) == []


def test_only_cluster_ip_given_is_synced_to_cluster_ips() -> None:
    obj = service()
    del obj["spec"]["clusterIPs"]
    assert validate("", "Service", obj) == []


def test_load_balancer_status_on_other_types() -> None:
    obj = {**service(), "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}}
    assert messages(validate_status_update("", "Service", obj, service())) == [
        "status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is "
        "'LoadBalancer'"
    ]


@pytest.mark.parametrize(
    ("subsets", "expected"),
    [
        pytest.param(
            [{"addresses": [{"ip": "10.1.0.5"}], "ports": [{"port": 80, "protocol": "TCP"}]}],
            [],
            id="valid",
        ),
        pytest.param(
            [{"ports": [{"port": 80, "protocol": "TCP"}]}],
            ["subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"],
            id="no addresses",
        ),
        pytest.param(
            [{"addresses": [{"ip": "169.254.1.1"}]}],
            [
                'subsets[0].addresses[0].ip: Invalid value: "169.254.1.1": may not be in the '
                "link-local range (169.254.0.0/16, fe80::/10)"
            ],
            id="link local",
        ),
        pytest.param(
            [
                {
                    "addresses": [{"ip": "10.1.0.5"}],
                    "ports": [{"port": 80, "protocol": "TCP"}, {"port": 81, "protocol": "TCP"}],
                }
            ],
            [
                "subsets[0].ports[0].name: Required value",
                "subsets[0].ports[1].name: Required value",
            ],
            id="port names",
        ),
    ],
)
def test_endpoints(subsets: list[dict[str, Any]], expected: list[str]) -> None:
    assert messages(validate("", "Endpoints", {"subsets": subsets})) == expected


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            {
                "addressType": "IPv4",
                "endpoints": [{"addresses": ["10.1.0.5"]}],
                "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
            },
            [],
            id="valid",
        ),
        pytest.param(
            {"addressType": "IPv5"},
            ['addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"'],
            id="address type",
        ),
        pytest.param(
            {"addressType": "IPv4", "endpoints": [{"addresses": ["fd00::1"]}]},
            ['endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address'],
            id="family",
        ),
        pytest.param(
            {"addressType": "IPv4", "endpoints": [{"addresses": []}]},
            ["endpoints[0].addresses: Required value: must contain at least 1 address"],
            id="no address",
        ),
        pytest.param(
            {"addressType": "FQDN", "endpoints": [{"addresses": ["localhost"]}]},
            [
                'endpoints[0].addresses[0]: Invalid value: "localhost": should be a domain '
                "with at least two segments separated by dots"
            ],
            id="fqdn",
        ),
    ],
)
def test_endpoint_slices(obj: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("discovery.k8s.io", "EndpointSlice", obj)) == expected


def test_endpoint_slice_address_type_is_immutable() -> None:
    old = {"addressType": "IPv4"}
    assert messages(
        validate_update("discovery.k8s.io", "EndpointSlice", {"addressType": "IPv6"}, old)
    ) == ['addressType: Invalid value: "IPv6": field is immutable']
