"""hypothesis strategies for fuzzing the REST API: values shaped by OpenAPI schemas,
request bodies, query parameters and headers.

`Shapes` turns the `components.schemas` of the served /openapi/v3 documents into
strategies for objects of a kind: every object is built property by property from the
schema (the required properties and a few random others, to a bounded depth), and any
value may be swapped for a random JSON value of another type, so the server sees
objects that look right but are wrong in one place. The other strategies draw the
rest of a request from lists of valid, edge and invalid values.
"""

from __future__ import annotations

import base64
import json
import string
from typing import Any

import yaml
from hypothesis import strategies as st

Schema = dict[str, Any]

_MAX_DEPTH = 7

_KEYS = st.text(st.sampled_from(string.ascii_letters + string.digits + "-._/~"), max_size=12)
_TEXT = st.text(max_size=20)
_EDGE_INTEGERS = st.sampled_from(
    [0, -1, 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63, -(2**64), 10**30]
)
_INTEGERS = st.one_of(st.integers(-(2**70), 2**70), _EDGE_INTEGERS)
_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
_SCALARS = st.one_of(st.none(), st.booleans(), _INTEGERS, _FLOATS, _TEXT)
RANDOM_JSON: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(_KEYS, children, max_size=3)
    ),
    max_leaves=8,
)

_TIMESTAMPS = st.sampled_from(
    ["2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123456Z", "1999-13-45T99:99:99Z", "now", ""]
)
_QUANTITIES = st.sampled_from(["1", "100m", "1Gi", "1.5", "-1", "1e3", "1Ki", "x", "9" * 40, ""])

VALID_NAMES = ("fuzz-a", "fuzz-b", "fuzz-c")
INVALID_NAMES = (
    "Fuzz-Upper",
    "fuzz_underscore",
    "-fuzz",
    "fuzz.",
    "f" * 254,
    "fuzz a",
    "fuzz%zz",
    "ünïcode",
    "fuzz:colon",
    "fuzz@host",
    "fuzz\\back",
)
# Never "." or "..": the client would resolve them and change which collection a
# request addresses.
PATH_NAMES = st.sampled_from(VALID_NAMES * 3 + INVALID_NAMES)
BODY_NAMES = st.one_of(PATH_NAMES, st.sampled_from([".", "..", "", "a/b"]), _TEXT, RANDOM_JSON)


class Shapes:
    """Strategies for values of the schemas of the served OpenAPI documents."""

    def __init__(self, schemas: dict[str, Schema]) -> None:
        self._schemas = schemas
        self._cache: dict[tuple[int, int], st.SearchStrategy[Any]] = {}

    def of(self, schema_name: str) -> st.SearchStrategy[Any]:
        """A possibly mutated value of the named schema (a random object if unknown)."""
        schema = self._schemas.get(schema_name)
        if schema is None:
            return st.dictionaries(_KEYS, RANDOM_JSON, max_size=4)
        return self._value(schema, _MAX_DEPTH)

    def property_paths(self, schema_name: str) -> list[str]:
        """JSON pointers to the schema's properties, two levels deep (for JSON patches)."""
        schema = self._resolve(self._schemas.get(schema_name, {}))
        paths = []
        for name, child in sorted(schema.get("properties", {}).items()):
            paths.append(f"/{name}")
            for grandchild in sorted(self._resolve(child).get("properties", {})):
                paths.append(f"/{name}/{grandchild}")
        return paths or ["/metadata"]

    def _resolve(self, schema: Schema) -> Schema:
        while True:
            if "$ref" in schema:
                schema = self._schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
            elif len(schema.get("allOf", ())) == 1:
                schema = schema["allOf"][0]
            else:
                return schema

    def _value(self, schema: Schema, depth: int) -> st.SearchStrategy[Any]:
        key = (id(schema), depth)
        if key not in self._cache:
            conforming = self._conforming(self._resolve(schema), depth)
            # One value in eight is replaced by random JSON of any type.
            self._cache[key] = st.integers(0, 7).flatmap(
                lambda n: RANDOM_JSON if n == 7 else conforming
            )
        return self._cache[key]

    def _conforming(self, schema: Schema, depth: int) -> st.SearchStrategy[Any]:
        if schema.get("x-kubernetes-int-or-string"):
            return st.one_of(_INTEGERS, _QUANTITIES, _TEXT)
        if schema.get("x-kubernetes-preserve-unknown-fields") or depth <= 0:
            return RANDOM_JSON
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self._object(schema, depth)
        if kind == "array":
            items = self._value(schema.get("items", {}), depth - 1)
            return st.lists(items, max_size=2)
        if kind == "string":
            return _string(schema)
        if kind == "integer":
            return _INTEGERS
        if kind == "number":
            return st.one_of(_FLOATS, _INTEGERS)
        if kind == "boolean":
            return st.booleans()
        if "oneOf" in schema or "anyOf" in schema:
            return st.one_of(_INTEGERS, _QUANTITIES, _TEXT)
        return RANDOM_JSON

    def _object(self, schema: Schema, depth: int) -> st.SearchStrategy[Any]:
        properties: dict[str, Schema] = schema.get("properties", {})
        if not properties:
            extra = schema.get("additionalProperties")
            values = self._value(extra, depth - 1) if isinstance(extra, dict) else RANDOM_JSON
            return st.dictionaries(_KEYS, values, max_size=3)
        required = [n for n in schema.get("required", ()) if n in properties]
        names = sorted(properties)

        def build(chosen: list[str]) -> st.SearchStrategy[Any]:
            fields = dict.fromkeys([*required, *chosen])
            return st.fixed_dictionaries({n: self._value(properties[n], depth - 1) for n in fields})

        return st.lists(st.sampled_from(names), max_size=3, unique=True).flatmap(build)


def _string(schema: Schema) -> st.SearchStrategy[Any]:
    fmt = schema.get("format", "")
    if fmt == "date-time":
        return _TIMESTAMPS
    if fmt == "byte":
        return st.one_of(st.binary(max_size=8).map(lambda b: base64.b64encode(b).decode()), _TEXT)
    if "enum" in schema:
        return st.one_of(st.sampled_from(schema["enum"]), _TEXT)
    return st.one_of(_TEXT, _QUANTITIES, st.sampled_from(VALID_NAMES))


# --- bodies ------------------------------------------------------------------------


def _yaml(value: Any) -> bytes:
    return yaml.safe_dump(value, allow_unicode=True).encode()


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


_YAML_ODDITIES = st.sampled_from(
    [
        b"a: 2001-12-14\n",
        b"metadata: {name: x, creationTimestamp: 2001-12-14t21:59:43.10-05:00}\n",
        b"data: !!binary aGVsbG8=\n",
        b"data: {? [a, b]: c}\n",
        b"data: {1: x, null: y, true: z}\n",
        b"metadata: &m {name: x, labels: *m}\n",
        b"a: &a [x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c]\n",
        b"a: .nan\nb: .inf\nc: 0o17\nd: 1_000\n",
        b"--- {}\n--- {}\n",
        b"!!python/object:os.system {}\n",
        b"%YAML 9.9\n--- {}\n",
        b"\xff\xfe\x00",
        b"",
    ]
)


def _nested(depth: int, opener: bytes, closer: bytes) -> bytes:
    return opener * depth + closer * depth


_DEEP = st.sampled_from(
    [
        _nested(100_000, b"[", b"]"),
        _nested(5_000, b'{"a":', b"}").replace(b"}", b"1}", 1),
        b'{"metadata":' + _nested(3_000, b"[", b"]") + b"}",
        b'{"data":' + _nested(1_000, b"[", b"]") + b"}",
        _nested(20_000, b"- ", b""),
        _nested(200_000, b"- ", b""),
    ]
)
_HUGE_SIZES = st.sampled_from([1 << 16, 1 << 20, 3 * 1024 * 1024 + 1])


@st.composite
def _huge(draw: st.DrawFn, shaped: st.SearchStrategy[Any]) -> bytes:
    obj = draw(shaped)
    if not isinstance(obj, dict):
        obj = {}
    field = draw(st.sampled_from(["data", "metadata", "spec", "kind", "apiVersion"]))
    obj[field] = {"x": "x" * draw(_HUGE_SIZES)} if field != "kind" else "x" * draw(_HUGE_SIZES)
    return _json(obj)


@st.composite
def _truncated(draw: st.DrawFn, shaped: st.SearchStrategy[Any]) -> bytes:
    encoded = _json(draw(shaped))
    return encoded[: draw(st.integers(0, max(0, len(encoded) - 1)))]


def json_patches(paths: list[str]) -> st.SearchStrategy[bytes]:
    """JSON patch documents (RFC 6902) with valid and invalid operations."""
    pointers = st.one_of(st.sampled_from([*paths, "", "/", "/-", "/a~2b", "/spec/x/-"]), _TEXT)
    operation = st.fixed_dictionaries(
        {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "nope"])},
        optional={"path": pointers, "value": RANDOM_JSON, "from": pointers},
    )
    return st.one_of(st.lists(operation, max_size=4), RANDOM_JSON).map(_json)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each drawn in proportion to its weight."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


def _encoded(content_type: str | None, body: st.SearchStrategy[bytes | None]) -> Any:
    return body.map(lambda b: (content_type, b))


def payloads(
    method: str, shaped: st.SearchStrategy[Any], paths: list[str]
) -> st.SearchStrategy[tuple[str | None, bytes | None]]:
    """(Content-Type, body) pairs for a method: mostly a body in the format its type
    names that the method takes (objects shaped like the kind as JSON or YAML, patches,
    protobuf-looking bytes), sometimes any type with any body: random JSON, truncated
    JSON, random bytes, deep nesting, YAML oddities, huge strings or none."""
    as_json, as_yaml = shaped.map(_json), shaped.map(_yaml)
    any_body: st.SearchStrategy[bytes | None] = st.one_of(
        st.none(),
        as_json,
        as_yaml,
        RANDOM_JSON.map(_json),
        _truncated(shaped),
        json_patches(paths),
        st.binary(max_size=64),
        _DEEP,
        _YAML_ODDITIES,
        _huge(shaped),
    )
    anything = st.tuples(CONTENT_TYPES, any_body)
    if method == "PATCH":
        return weighted(
            (3, _encoded("application/merge-patch+json", as_json)),
            (3, _encoded("application/strategic-merge-patch+json", as_json)),
            (3, _encoded("application/json-patch+json", json_patches(paths))),
            (3, _encoded("application/apply-patch+yaml", st.one_of(as_yaml, as_json))),
            (2, anything),
        )
    if method == "DELETE":
        return weighted((6, _encoded(JSON, as_json)), (4, st.just((None, None))), (2, anything))
    return weighted(
        (8, _encoded(JSON, as_json)),
        (2, _encoded("application/yaml", st.one_of(as_yaml, _YAML_ODDITIES, _DEEP))),
        (1, _encoded(PROTOBUF, st.binary(max_size=64).map(lambda b: b"k8s\x00" + b))),
        (3, anything),
    )


# --- query parameters and headers ----------------------------------------------------

# Digits Python's int() reads but Go's strconv does not (superscript two, fullwidth
# one, Arabic-Indic one), and other near-numbers.
_DIGITS_ELSEWHERE = ["\u00b2", "\uff11", "\u0661", "1.5", "0x10", " 1", "1 ", "+1"]


def _continue_token(rv: Any, start: Any) -> str:
    token = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}).encode()
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


_NUMBERS = [
    "0",
    "1",
    "2",
    "-1",
    "abc",
    "",
    "99999999999999999999",
    str(2**63),
    *_DIGITS_ELSEWHERE,
]
_QUERY_VALUES: dict[str, st.SearchStrategy[str]] = {
    "labelSelector": st.one_of(
        st.sampled_from(
            ["a=b", "a in (x,y)", "!a", "a,b!=c", "a notin ()", "a=", "a==b==c", "x/y/z=1", ""]
        ),
        _TEXT,
    ),
    "fieldSelector": st.one_of(
        st.sampled_from(
            [
                "metadata.name=fuzz-a",
                "metadata.namespace!=x",
                "metadata.name==a,metadata.name!=b",
                "spec.nodeName=",
                "status.phase=Running",
                "a=b",
                "metadata.name",
                "metadata.name=a\\,b",
                "",
            ]
        ),
        _TEXT,
    ),
    "limit": st.sampled_from(_NUMBERS),
    "continue": st.one_of(
        st.builds(
            _continue_token,
            st.one_of(_INTEGERS, _TEXT, st.none()),
            st.one_of(st.sampled_from(["fuzz-a\x00", "../../x\x00", "\x00", ""]), RANDOM_JSON),
        ),
        _TEXT,
    ),
    "resourceVersion": st.sampled_from(_NUMBERS),
    "resourceVersionMatch": st.sampled_from(["Exact", "NotOlderThan", "exact", "nope", ""]),
    "dryRun": st.sampled_from(["All", "", "None", "all", "All,All"]),
    "fieldValidation": st.sampled_from(["Strict", "Warn", "Ignore", "strict", "", "nope"]),
    "propagationPolicy": st.sampled_from(["Orphan", "Background", "Foreground", "", "nope"]),
    "gracePeriodSeconds": st.sampled_from(_NUMBERS),
    "force": st.sampled_from(["true", "false", "1", "nope", ""]),
    "fieldManager": st.one_of(st.sampled_from(["fuzz", "", "m" * 200, "a\tb"]), _TEXT),
    "timeoutSeconds": st.sampled_from(_NUMBERS),
    "allowWatchBookmarks": st.sampled_from(["true", "false", "nope"]),
    "sendInitialEvents": st.sampled_from(["true", "false", "nope"]),
    "pretty": st.sampled_from(["true", "1", "nope"]),
    "includeObject": st.sampled_from(["None", "Object", "Metadata", "nope"]),
    "timeout": st.sampled_from(["32s", "1m", "-1s", "nope", ""]),
}
_PARAM_NAMES = st.sampled_from([*sorted(_QUERY_VALUES), "fuzzUnknown"])


@st.composite
def query_parameters(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Up to four random parameters (a name may repeat), without `watch`."""
    names = draw(st.lists(_PARAM_NAMES, max_size=4))
    return [(n, draw(_QUERY_VALUES.get(n, _TEXT))) for n in names]


_HEADER_TEXT = st.text(st.sampled_from(string.ascii_letters + string.digits + "/+;=.-* "))
_PATCH_TYPES = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/apply-patch+cbor",
]
JSON = "application/json"
PROTOBUF = "application/vnd.kubernetes.protobuf"
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            JSON,
            "application/yaml",
            "text/yaml",
            PROTOBUF,
            "application/json; charset=utf-8",
            "application/json;;;",
            "application/cbor",
            "text/plain",
            "multipart/form-data; boundary=x",
            *_PATCH_TYPES,
        ]
    ),
    _HEADER_TEXT,
    st.none(),
)
ACCEPTS = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "application/json",
            "application/yaml",
            "application/vnd.kubernetes.protobuf",
            "application/json;as=Table;v=v1;g=meta.k8s.io",
            "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
            "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
            "application/json;as=Table;g=meta.k8s.io;v=v2",
            "*/*",
            "text/html",
        ]
    ),
    _HEADER_TEXT,
)
