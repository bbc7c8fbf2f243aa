"""Kubernetes' protobuf encoding of the built-in kinds, to and from JSON-shaped dicts.

Go clients (kubectl's typed commands, client-go controllers) send and prefer
`application/vnd.kubernetes.protobuf`. A body is the 4 bytes `k8s\\x00` followed by a
`runtime.Unknown` message: `typeMeta {apiVersion, kind}`, `raw` (the object's own
message), `contentEncoding` and `contentType` (both empty). The object messages are
those of k8s.io/api and k8s.io/apimachinery 1.32, read from the packaged descriptor set
(`data/k8s-1.32-descriptors.pb`, made by `scripts/extract-k8s-proto-descriptors`).

The JSON mapping is Kubernetes' own, not protobuf's:
  * a proto field's name is its JSON key, but for the few listed in `_RENAMED`, and the
    fields of Go structs embedded with `json:",inline"` (`_INLINE`) are merged into
    their parent (`Volume.volumeSource`, `Probe.handler`...);
  * `metav1.Time` is RFC 3339 in seconds (`2006-01-02T15:04:05Z`), `MicroTime` with six
    fractional digits, and both are `null` when zero; `resource.Quantity` is its
    string; `intstr.IntOrString` a number or a string; `runtime.RawExtension` and
    `FieldsV1` hold JSON (a RawExtension may also hold a nested protobuf body);
    named `[]string` types (`ExtraValue`, `Verbs`) are their `items`; `bytes` are
    base64, as Go's `[]byte` is in JSON.
  * Presence follows Go's JSON. The descriptors keep gogo's `(gogoproto.nullable) =
    false` on fields that are Go values rather than pointers. Go writes those to
    protobuf always, but to JSON only when non-zero if they are `omitempty`, which
    the descriptors do not record; the official OpenAPI definitions do (a field
    without omitempty is `required`). So decoding drops a zero scalar value field
    unless its definition requires it (`"port": 0` stays, `"generation": 0` goes).
    Value structs stay (`"status": {}`), as in Go's JSON; pointer fields keep their
    zero values (`replicas: 0`).

Invariants: decoding then encoding a body, or encoding then decoding a dict in this
canonical form, gives back the same object. The descriptors are loaded once, on first
use, and each message type's plan is built on its first use and cached (two threads
may build one twice, harmlessly); nothing else does I/O or keeps state.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from importlib import resources
from typing import Any, Final

import orjson
from google.protobuf import (  # type: ignore[import-untyped, unused-ignore]
    descriptor_pb2,
    descriptor_pool,
    message,
    message_factory,
)
from google.protobuf.unknown_fields import (  # type: ignore[import-untyped, unused-ignore]
    UnknownFieldSet,
)

from .schema import definitions

PROTOBUF: Final = "application/vnd.kubernetes.protobuf"
MAGIC: Final = b"k8s\x00"

_DESCRIPTORS: Final = "k8s-1.32-descriptors.pb"
_GOGO_NULLABLE: Final = 65001
_META: Final = "k8s.io.apimachinery.pkg.apis.meta"
_UNKNOWN: Final = "k8s.io.apimachinery.pkg.runtime.Unknown"

# API group -> proto package prefix (the version is appended).
_GROUP_PACKAGES: Final = {
    "": "k8s.io.api.core",
    "internal.apiserver.k8s.io": "k8s.io.api.apiserverinternal",
    **{
        group: "k8s.io.api." + group.partition(".")[0]
        for group in [
            "admission.k8s.io",
            "admissionregistration.k8s.io",
            "apidiscovery.k8s.io",
            "apps",
            "authentication.k8s.io",
            "authorization.k8s.io",
            "autoscaling",
            "batch",
            "certificates.k8s.io",
            "coordination.k8s.io",
            "discovery.k8s.io",
            "events.k8s.io",
            "extensions",
            "flowcontrol.apiserver.k8s.io",
            "imagepolicy.k8s.io",
            "networking.k8s.io",
            "node.k8s.io",
            "policy",
            "rbac.authorization.k8s.io",
            "resource.k8s.io",
            "scheduling.k8s.io",
            "storage.k8s.io",
            "storagemigration.k8s.io",
        ]
    },
}
# Kinds of meta.k8s.io/v1 that Kubernetes registers in every group version.
_META_KINDS: Final = frozenset(
    [
        "APIGroup",
        "APIGroupList",
        "APIResourceList",
        "APIVersions",
        "Status",
        "WatchEvent",
        "CreateOptions",
        "DeleteOptions",
        "GetOptions",
        "ListOptions",
        "PatchOptions",
        "UpdateOptions",
    ]
)

_ADMISSION = "k8s.io.api.admissionregistration"
# Proto fields whose JSON key differs from their name.
_RENAMED: Final = {
    "k8s.io.api.authentication.v1.BoundObjectReference.uID": "uid",
    "k8s.io.api.networking.v1.IngressClassParametersReference.aPIGroup": "apiGroup",
    "k8s.io.api.networking.v1beta1.IngressClassParametersReference.aPIGroup": "apiGroup",
    **{
        f"{_ADMISSION}.{version}.{field}": field.rpartition(".")[2].lower()
        for version in ("v1", "v1beta1", "v1alpha1")
        for field in ("Variable.Name", "Variable.Expression", "Validation.Expression")
    },
    **{
        f"{_ADMISSION}.{version}.{kind}WebhookConfiguration.Webhooks": "webhooks"
        for version in ("v1", "v1beta1")
        for kind in ("Mutating", "Validating")
    },
}
# Fields holding a Go struct embedded with `json:",inline"`.
_INLINE: Final = frozenset(
    {
        *(
            f"k8s.io.api.core.v1.{kind}.localObjectReference"
            for kind in [
                "ConfigMapEnvSource",
                "ConfigMapKeySelector",
                "ConfigMapProjection",
                "ConfigMapVolumeSource",
                "SecretEnvSource",
                "SecretKeySelector",
                "SecretProjection",
            ]
        ),
        "k8s.io.api.core.v1.EphemeralContainer.ephemeralContainerCommon",
        "k8s.io.api.core.v1.PersistentVolumeSpec.persistentVolumeSource",
        "k8s.io.api.core.v1.Probe.handler",
        "k8s.io.api.core.v1.Volume.volumeSource",
        *(
            f"k8s.io.api.{package}.IngressRule.ingressRuleValue"
            for package in ("networking.v1", "networking.v1beta1", "extensions.v1beta1")
        ),
        *(
            f"{_ADMISSION}.{version}.NamedRuleWithOperations.ruleWithOperations"
            for version in ("v1", "v1beta1", "v1alpha1")
        ),
        f"{_ADMISSION}.v1.RuleWithOperations.rule",
        *(
            f"k8s.io.api.resource.{version}.Device{kind}Configuration.deviceConfiguration"
            for version in ("v1alpha3", "v1beta1")
            for kind in ("Allocation", "Claim", "Class")
        ),
    }
)


class ProtobufError(ValueError):
    """A body that is not a Kubernetes protobuf object we know, or an object that does
    not fit its kind's messages."""


_Decoder = Callable[[Any], Any]
_Filler = Callable[[Any, Any], None]  # (message to fill, JSON value)


# --- special types -------------------------------------------------------------------

_EPOCH: Final = datetime(1970, 1, 1)
_RFC3339: Final = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d\d):(\d\d))"
)


def _time_text(time: Any, micro: bool) -> str | None:
    if time.seconds == 0 and time.nanos == 0:
        return None
    try:
        when = _EPOCH + timedelta(seconds=time.seconds, microseconds=time.nanos // 1000)
    except OverflowError:
        raise ProtobufError(f"time out of range: {time.seconds}s") from None
    if micro:
        return when.isoformat(timespec="microseconds") + "Z"
    return when.isoformat(timespec="seconds") + "Z"


def _fill_time(time: Any, text: Any) -> None:
    match = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ProtobufError(f"{text!r} is not an RFC 3339 time")
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    try:
        when = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError as error:
        raise ProtobufError(f"{text!r} is not an RFC 3339 time: {error}") from None
    delta = when - _EPOCH
    offset = (int(off_h) * 3600 + int(off_m) * 60) * (-1 if sign == "-" else 1) if sign else 0
    time.seconds = delta.days * 86400 + delta.seconds - offset
    time.nanos = int(fraction.ljust(9, "0")) if fraction else 0


def _fill_quantity(quantity: Any, value: Any) -> None:
    quantity.string = value if isinstance(value, str) else orjson.dumps(value).decode()


def _int_or_string(value: Any) -> Any:
    return value.strVal if value.type == 1 else value.intVal


def _fill_int_or_string(target: Any, value: Any) -> None:
    if isinstance(value, str):
        target.type, target.strVal = 1, value
    else:
        target.type, target.intVal = 0, value


def _json_bytes(raw: bytes) -> Any:
    if not raw:
        return None
    if raw.startswith(MAGIC):
        return decode(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ProtobufError(f"embedded object is not JSON: {error}") from None


def _fill_raw_extension(extension: Any, value: Any) -> None:
    extension.raw = value if isinstance(value, bytes) else orjson.dumps(value)


def _fill_fields_v1(fields: Any, value: Any) -> None:
    fields.Raw = orjson.dumps(value)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _fill_items(wrapper: Any, value: Any) -> None:
    wrapper.items.extend(value)


# Message types with their own JSON form: (decoder, filler, JSON null means "zero").
_SPECIAL: Final[dict[str, tuple[_Decoder, _Filler, bool]]] = {
    f"{_META}.v1.Time": (lambda m: _time_text(m, False), _fill_time, True),
    f"{_META}.v1.MicroTime": (lambda m: _time_text(m, True), _fill_time, True),
    "k8s.io.apimachinery.pkg.api.resource.Quantity": (lambda m: m.string, _fill_quantity, False),
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": (
        _int_or_string,
        _fill_int_or_string,
        False,
    ),
    "k8s.io.apimachinery.pkg.runtime.RawExtension": (
        lambda m: _json_bytes(m.raw),
        _fill_raw_extension,
        True,
    ),
    f"{_META}.v1.FieldsV1": (lambda m: _json_bytes(m.Raw), _fill_fields_v1, True),
}


def _special(descriptor: Any) -> tuple[_Decoder, _Filler, bool] | None:
    """The JSON form of a message type that is not a plain object, if it has one."""
    special = _SPECIAL.get(descriptor.full_name)
    if special is not None:
        return special
    fields = descriptor.fields
    if (
        len(fields) == 1
        and fields[0].name == "items"
        and fields[0].is_repeated
        and fields[0].message_type is None
    ):
        return (lambda m: list(m.items), _fill_items, False)  # a named []string
    return None


# --- per-message plans ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    """How one proto field maps to JSON.

    `key` is the JSON key. `inline` names the field of an embedded struct through
    which this entry goes: the field itself in its message's decoding plan (its
    JSON object is merged into the parent), the embedding field in the parent's
    encoding plan (for each key of the embedded struct). `null_is_zero`: JSON null
    stands for the type's zero value (a Time, a RawExtension), else it means absent."""

    key: str
    decode: _Decoder | None
    fill: _Filler  # (parent message, JSON value)
    elide_zero: bool = False
    null_is_zero: bool = False
    inline: str | None = None


@dataclass(frozen=True, slots=True)
class _Plan:
    by_descriptor: dict[Any, _Field]
    by_key: dict[str, _Field]


@dataclass(frozen=True, slots=True)
class _Registry:
    pool: Any
    value_fields: frozenset[str]  # full names of fields with (gogoproto.nullable) = false
    plans: dict[str, _Plan]
    classes: dict[str, Any]  # message class by full name


@functools.cache
def _registry() -> _Registry:
    data = (resources.files("kybernetes.api") / "data" / _DESCRIPTORS).read_bytes()
    pool = descriptor_pool.DescriptorPool()
    value_fields = set()
    for file in descriptor_pb2.FileDescriptorSet.FromString(data).file:
        pool.Add(file)
        for kind in file.message_type:
            for field in kind.field:
                options = UnknownFieldSet(field.options)  # gogo's, unknown to protobuf
                if any(
                    options[i].field_number == _GOGO_NULLABLE and options[i].data == 0
                    for i in range(len(options))
                ):
                    value_fields.add(f"{file.package}.{kind.name}.{field.name}")
    return _Registry(pool, frozenset(value_fields), {}, {})


def _message_codec(descriptor: Any) -> tuple[_Decoder, _Filler, bool]:
    return _special(descriptor) or (_to_dict, _fill, False)


def _map_field(name: str, key: str, value: Any) -> _Field:
    if value.message_type is not None:
        decode_value, fill_value, _ = _message_codec(value.message_type)

        def fill_map(parent: Any, items: Any) -> None:
            target = getattr(parent, name)
            for k, v in items.items():
                fill_value(target[k], v)

        return _Field(key, lambda m: {k: decode_value(v) for k, v in m.items()}, fill_map)
    if value.type == value.TYPE_BYTES:
        return _Field(
            key,
            lambda m: {k: _b64(v) for k, v in m.items()},
            lambda p, v: getattr(p, name).update({k: _unb64(x) for k, x in v.items()}),
        )
    return _Field(key, dict, lambda p, v: getattr(p, name).update(v))


def _message_field(name: str, key: str, kind: Any, repeated: bool) -> _Field:
    decode_one, fill_one, null_is_zero = _message_codec(kind)
    if repeated:

        def fill_list(parent: Any, items: Any) -> None:
            target = getattr(parent, name)
            for item in items:
                fill_one(target.add(), item)

        return _Field(key, lambda m: [decode_one(x) for x in m], fill_list)

    def fill_message(parent: Any, value: Any) -> None:
        target = getattr(parent, name)
        target.SetInParent()
        if value is not None:
            fill_one(target, value)

    return _Field(key, decode_one, fill_message, null_is_zero=null_is_zero)


def _required(message_name: str) -> frozenset[str]:
    """The JSON keys that Go always writes (no omitempty) in a message's JSON."""
    definition = definitions().get("io.k8s." + message_name.removeprefix("k8s.io."))
    return frozenset(definition.get("required", ())) if definition else frozenset()


def _field_plan(field: Any, value_fields: frozenset[str], required: frozenset[str]) -> _Field:
    name, full_name, kind = field.name, field.full_name, field.message_type
    key = _RENAMED.get(full_name, name)
    if kind is not None and kind.GetOptions().map_entry:
        entry = _map_field(name, key, kind.fields_by_name["value"])
    elif kind is not None:
        entry = _message_field(name, key, kind, field.is_repeated)
    elif field.type == field.TYPE_BYTES:
        if field.is_repeated:
            entry = _Field(
                key,
                lambda m: [_b64(x) for x in m],
                lambda p, v: getattr(p, name).extend(map(_unb64, v)),
            )
        else:
            entry = _Field(key, _b64, lambda p, v: setattr(p, name, _unb64(v)))
    elif field.is_repeated:
        entry = _Field(key, list, lambda p, v: getattr(p, name).extend(v))
    else:
        entry = _Field(
            key,
            None,
            lambda p, v: setattr(p, name, v),
            elide_zero=full_name in value_fields and key not in required,
        )
    return replace(entry, inline=name) if full_name in _INLINE else entry


def _plan(descriptor: Any) -> _Plan:
    registry = _registry()
    plan = registry.plans.get(descriptor.full_name)
    if plan is not None:
        return plan
    by_descriptor: dict[Any, _Field] = {}
    by_key: dict[str, _Field] = {}
    required = _required(descriptor.full_name)
    for field in descriptor.fields:
        entry = by_descriptor[field] = _field_plan(field, registry.value_fields, required)
        if entry.inline is None:
            by_key[entry.key] = entry
        else:
            for key, inner in _plan(field.message_type).by_key.items():
                by_key[key] = replace(inner, inline=field.name)
    plan = registry.plans[descriptor.full_name] = _Plan(by_descriptor, by_key)
    return plan


def _to_dict(proto: Any) -> dict[str, Any]:
    fields = _plan(proto.DESCRIPTOR).by_descriptor
    out: dict[str, Any] = {}
    for descriptor, value in proto.ListFields():
        field = fields[descriptor]
        if field.elide_zero and not value:
            continue
        if field.decode is not None:
            value = field.decode(value)
        if field.inline is None:
            out[field.key] = value
        else:
            out.update(value)
    return out


def _fill(proto: Any, obj: Any) -> None:
    by_key = _plan(proto.DESCRIPTOR).by_key
    inline: dict[str, dict[str, Any]] = {}
    for key, value in obj.items():
        field = by_key.get(key)
        if field is None:
            if key in ("apiVersion", "kind"):  # TypeMeta, which protobuf does not carry
                continue
            raise ProtobufError(f"{proto.DESCRIPTOR.full_name} has no field {key!r}")
        if field.inline is not None:
            inline.setdefault(field.inline, {})[key] = value
        elif value is not None or field.null_is_zero:
            field.fill(proto, value)
    for name, part in inline.items():
        target = getattr(proto, name)
        target.SetInParent()
        _fill(target, part)


# --- the envelope --------------------------------------------------------------------


def _message_class(api_version: str, kind: str) -> Any:
    registry = _registry()
    group, _, version = api_version.rpartition("/")
    if group == "meta.k8s.io":
        names = [f"{_META}.{version}.{kind}"]
    elif group in _GROUP_PACKAGES:
        names = [f"{_GROUP_PACKAGES[group]}.{version}.{kind}"]
        if kind in _META_KINDS:
            names.append(f"{_META}.v1.{kind}")
    else:
        names = []
    for name in names:
        cls = registry.classes.get(name)
        if cls is not None:
            return cls
        try:
            descriptor = registry.pool.FindMessageTypeByName(name)
        except KeyError:
            continue
        cls = registry.classes[name] = message_factory.GetMessageClass(descriptor)
        return cls
    raise ProtobufError(f'no kind "{kind}" is registered for version "{api_version}"')


def decode(body: bytes) -> dict[str, Any]:
    """The object in a Kubernetes protobuf body, as the JSON dict Kubernetes would
    produce, with "kind" and "apiVersion" set. Raises `ProtobufError` for a body without
    the magic prefix, a truncated or malformed message, or an unknown kind."""
    if not body.startswith(MAGIC):
        raise ProtobufError(
            "provided data does not appear to be a protobuf message, "
            f"expected prefix [{' '.join(map(str, MAGIC))}]"
        )
    envelope = _unknown_class()()
    try:
        envelope.ParseFromString(body[len(MAGIC) :])
        api_version, kind = envelope.typeMeta.apiVersion, envelope.typeMeta.kind
        if not kind:
            raise ProtobufError("the protobuf envelope names no kind")
        if envelope.contentEncoding:
            raise ProtobufError(f"unsupported content encoding {envelope.contentEncoding!r}")
        proto = _message_class(api_version, kind)()
        proto.ParseFromString(envelope.raw)
    except message.DecodeError as error:
        raise ProtobufError(f"truncated or malformed protobuf message: {error}") from None
    out: dict[str, Any] = {"kind": kind, "apiVersion": api_version}
    out.update(_to_dict(proto))
    return out


def encode(obj: Mapping[str, Any]) -> bytes:
    """The Kubernetes protobuf body of `obj`, a JSON-shaped object with "apiVersion" and
    "kind" (the inverse of `decode`). A RawExtension field may be given `bytes`: they
    are embedded as they are (a nested protobuf body, as in watch events). Raises
    `ProtobufError` for an unknown kind or a field that does not fit its message."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not kind:
        raise ProtobufError("an object needs a string apiVersion and kind")
    proto = _message_class(api_version, kind)()
    try:
        _fill(proto, obj)
    except ProtobufError:
        raise
    except (TypeError, ValueError, AttributeError) as error:
        raise ProtobufError(
            f"{api_version} {kind} does not fit its protobuf message: {error}"
        ) from None
    envelope = _unknown_class()()
    envelope.typeMeta.apiVersion = api_version
    envelope.typeMeta.kind = kind
    envelope.raw = proto.SerializeToString(deterministic=True)
    envelope.contentEncoding = ""
    envelope.contentType = ""
    body: bytes = envelope.SerializeToString(deterministic=True)
    return MAGIC + body


@functools.cache
def _unknown_class() -> Any:
    return message_factory.GetMessageClass(_registry().pool.FindMessageTypeByName(_UNKNOWN))
