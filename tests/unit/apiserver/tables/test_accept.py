"""Accept negotiation for Tables, as kube-apiserver's negotiation package decides it."""

from __future__ import annotations

import pytest

from kybernetes.apiserver.tables import TableAccept, parse_table_accept

KUBECTL = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)
V1 = TableAccept("meta.k8s.io/v1", "application/json")
V1BETA1 = TableAccept("meta.k8s.io/v1beta1", "application/json")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (KUBECTL, V1),
        ("application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json", V1BETA1),
        ("application/json; as=Table; g=meta.k8s.io; v=v1", V1),
        ('application/json;as="Table";v="v1";g="meta.k8s.io"', V1),
        (
            "application/yaml;as=Table;v=v1;g=meta.k8s.io",
            TableAccept("meta.k8s.io/v1", "application/yaml"),
        ),
        ("*/*;as=Table;v=v1;g=meta.k8s.io", V1),
        ("application/*;as=Table;v=v1;g=meta.k8s.io", V1),
        # Preference by q, whatever the order written.
        ("application/json;q=0.5,application/json;as=Table;v=v1;g=meta.k8s.io", V1),
        ("application/json;as=Table;v=v1;g=meta.k8s.io;q=0.5,application/json", None),
        # Unservable Table ranges are skipped, not refused.
        ("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json", None),
        (
            "application/json;as=Table;v=v2;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io",
            V1,
        ),
        ("application/json;as=Table;v=v1;g=example.com," + KUBECTL, V1),
        ("application/json;as=Table", None),
        ("application/json;as=Table;v=v1;g=meta.k8s.io;stream=watch", V1),
        ("application/json;as=Table;v=v1;g=meta.k8s.io;stream=other", None),
        ("application/json;as=Table;v=v1;g=meta.k8s.io;sv=v2", None),
        ("application/json;as=Table;v=v1;g=meta.k8s.io;pretty=1;foo=bar", V1),
        # Plain objects and other conversions are not Tables.
        ("application/json", None),
        ("application/vnd.kubernetes.protobuf,application/json;as=Table;v=v1;g=meta.k8s.io", None),
        ("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io," + KUBECTL, None),
        ("*/*", None),
        ("", None),
        # Malformed ranges are dropped.
        ("application/json;q=x;as=Table;v=v1;g=meta.k8s.io,application/json", None),
        ("a/b/c;as=Table;v=v1;g=meta.k8s.io," + KUBECTL, V1),
        ("text/html;as=Table;v=v1;g=meta.k8s.io", None),
    ],
)
def test_parse_table_accept(header: str, expected: TableAccept | None) -> None:
    assert parse_table_accept(header) == expected


def test_only_the_servers_serializers_count() -> None:
    header = "application/vnd.kubernetes.protobuf," + KUBECTL
    assert parse_table_accept(header, ["application/json"]) == V1
