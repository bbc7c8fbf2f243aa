"""Downward API values: Go-quoted label maps, field labels, subscripts, resources."""

from __future__ import annotations

import re

import pytest

from kybernetes.kubelet.fieldpath import (
    convert_field_label,
    format_map,
    go_quote,
    object_field,
    resource_value,
    split_subscripted,
)


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", '"plain"'),
        ('say "hi"\\', '"say \\"hi\\"\\\\"'),
        ("tab\tnew\nline\r\a\b\f\v", '"tab\\tnew\\nline\\r\\a\\b\\f\\v"'),
        ("\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'),
        ("héllo 世界 🙂", '"héllo 世界 🙂"'),
        ("\u200b\u00a0", '"\\u200b\\u00a0"'),
        ("\U000e0001", '"\\U000e0001"'),
    ],
)
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


def test_format_map_sorts_and_quotes() -> None:
    assert format_map({"b": "2", "a": 'x"y'}) == 'a="x\\"y"\nb="2"'
    assert format_map({}) == format_map(None) == ""


@pytest.mark.parametrize(
    ("path", "split"),
    [
        ("metadata.labels['app']", ("metadata.labels", "app")),
        ("metadata.annotations['a.io/b']", ("metadata.annotations", "a.io/b")),
        ("metadata.labels", None),
        ("['x']", None),
        ("metadata.labels['x'", None),
    ],
)
def test_split_subscripted(path: str, split: tuple[str, str] | None) -> None:
    assert split_subscripted(path) == split


def test_field_labels() -> None:
    assert convert_field_label("v1", "spec.host") == "spec.nodeName"
    assert convert_field_label("v1", "metadata.labels['a']") == "metadata.labels['a']"
    for label, error in [
        ("metadata.name['a']", "field label does not support subscript: metadata.name['a']"),
        ("spec.containers", "field label not supported: spec.containers"),
    ]:
        with pytest.raises(ValueError, match=f"^{re.escape(error)}$"):
            convert_field_label("v1", label)
    with pytest.raises(ValueError, match=r"^unsupported pod version: v2$"):
        convert_field_label("v2", "metadata.name")


def test_object_field_subscript_validation() -> None:
    pod = {"metadata": {"labels": {"a": "1"}, "annotations": {"Big.io/Key": "v"}}}
    assert object_field(pod, "metadata.labels['a']") == "1"
    assert object_field(pod, "metadata.labels['missing']") == ""
    assert object_field(pod, "metadata.annotations['Big.io/Key']") == "v"
    with pytest.raises(ValueError, match=r"^invalid key subscript in metadata.labels\['a b'\]: "):
        object_field(pod, "metadata.labels['a b']")


@pytest.mark.parametrize(
    ("resource", "divisor", "expected"),
    [
        ("limits.cpu", None, "2"),
        ("limits.cpu", "1m", "1250"),
        ("limits.cpu", "0", "2"),
        ("requests.cpu", "1m", "0"),
        ("limits.memory", "1Ki", "1"),
        ("limits.memory", "1", "1000"),
        ("limits.hugepages-2Mi", "1Mi", "4"),
        ("requests.ephemeral-storage", "1M", "0"),
    ],
)
def test_resource_values(resource: str, divisor: str | None, expected: str) -> None:
    container = {
        "resources": {"limits": {"cpu": "1250m", "memory": "1000", "hugepages-2Mi": "4Mi"}}
    }
    selector = {"resource": resource, "divisor": divisor}
    assert resource_value(selector, container) == expected
