"""Strategic merge patch, as kube-apiserver applies it to built-in kinds.

A JSON merge patch whose lists follow the schema's patch metadata: a list with
`x-kubernetes-patch-strategy: merge` merges element-wise (objects by their
`x-kubernetes-patch-merge-key`, scalars as a set union); other lists, and maps with
strategy `replace`, are replaced. A null deletes a field. Directives in the patch:
`$patch: replace | delete` on an object (or on a list element: `replace` replaces the
whole list, `delete` removes the elements with that merge key), `$retainKeys` (clear
the fields not listed), `$deleteFromPrimitiveList/<field>` and
`$setElementOrder/<field>` (the order of a merged list).

This follows apimachinery's `strategicpatch.StrategicMergeMapPatch` step by step, with
`SchemaNode` in place of Go struct tags: the order of merged lists (new patch elements
go before the server's, unless ordered otherwise), which directives stay in values the
patch adds, and the errors: 400 for malformed directives, 422 for a list of lists, and
500 with Go's wording for the rest (a missing merge key, an unknown `$patch`, a field
the kind does not have where both sides hold an object or a list).

Invariants: `apply` never mutates the object it is given and returns one that shares no
mutable value with it; the decoded patch is consumed. Pure; safe in threads.
"""

from __future__ import annotations

import copy
from typing import Any

from kybernetes.api.schemanode import NodeType, SchemaNode
from kybernetes.apiserver.status import bad_request

from .mergepatch import (
    ERR_PRIMITIVE_LIST,
    ERR_RETAIN_KEYS,
    ERR_SET_ELEMENT_ORDER,
    bad_arg_type,
    bad_patch_type,
    deduplicate_scalars,
    element_type,
    go_equal,
    go_format,
    go_key,
    go_quote,
    no_merge_key,
    prune_nulls,
    server_error,
)

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER = "$setElementOrder"

_MAP = "map[string]interface {}"
_LIST = "[]interface {}"
_GO_KINDS = {  # reflect.Kind of the Go types behind non-struct nodes
    NodeType.MAP: "map",
    NodeType.ARRAY: "slice",
    NodeType.BYTES: "slice",
    NodeType.STRING: "string",
    NodeType.NUMBER: "float64",
    NodeType.BOOLEAN: "bool",
}


def apply(
    original: dict[str, Any], patch: dict[str, Any] | None, schema: SchemaNode
) -> dict[str, Any]:
    """Applies the decoded strategic merge patch `patch` to a copy of `original`, an
    object of the built-in kind whose root node is `schema`. `null` changes nothing."""
    result = copy.deepcopy(original)
    return result if patch is None else merge_map(result, patch, schema)


def merge_map(original: dict[str, Any], patch: dict[str, Any], node: SchemaNode) -> dict[str, Any]:
    """`mergeMap`: merges `patch` into `original` (mutated) and returns the result."""
    if DIRECTIVE in patch:
        directive = patch[DIRECTIVE]
        if directive == "replace":
            del patch[DIRECTIVE]
            return patch
        if directive == "delete":
            return {}
        raise bad_patch_type(directive, patch)
    _retain_keys(original, patch)
    _merge_ordered_lists(original, patch, node)
    for key, value in patch.items():
        is_delete_list = key.startswith(DELETE_FROM_PRIMITIVE_LIST)
        if is_delete_list:
            key = _field(key, DELETE_FROM_PRIMITIVE_LIST, ERR_PRIMITIVE_LIST)
        if value is None:
            original.pop(key, None)
        elif key not in original or type(original[key]) is not type(value):
            if not is_delete_list:
                _set_added(original, key, value)
        elif isinstance(value, dict):
            child, strategy, _ = _struct_field(node, key)
            original[key] = (
                value if strategy == "replace" else merge_map(original[key], value, child)
            )
        elif isinstance(value, list):
            items, strategy, merge_key = _slice_field(node, key)
            if strategy == "merge" or is_delete_list:
                original[key] = _merge_list(original[key], value, items, merge_key, is_delete_list)
            else:
                original[key] = value
        else:
            original[key] = value
    return original


def _set_added(original: dict[str, Any], key: str, value: Any) -> None:
    """A value the original lacks (or has with another type) is taken from the patch,
    without its nulls and without the objects that carry a `$patch` directive."""
    value, keep = _remove_directives(prune_nulls(value))
    if keep:
        original[key] = value
    else:
        original.pop(key, None)


def _remove_directives(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        if DIRECTIVE in value:
            return None, False
        for key in list(value):
            value[key], keep = _remove_directives(value[key])
            if not keep:
                del value[key]
    elif isinstance(value, list):
        kept = (_remove_directives(item) for item in value)
        value = [item for item, keep in kept if keep]
    return value, True


def _retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    """`$retainKeys`: every field the patch sets must be listed; the others are cleared."""
    if RETAIN_KEYS not in patch:
        return
    retained = patch.pop(RETAIN_KEYS)
    if not isinstance(retained, list):
        raise bad_request(ERR_RETAIN_KEYS)
    kept = {key for key in retained if isinstance(key, str)}
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            continue
        if key not in kept:
            raise bad_request(ERR_RETAIN_KEYS)
    for key in [k for k in original if k not in kept]:
        del original[key]


def _merge_ordered_lists(original: dict[str, Any], patch: dict[str, Any], node: SchemaNode) -> None:
    """`mergePatchIntoOriginal`: merges each list named by `$setElementOrder/<field>`
    (and removes it from the patch), ordering it as the directive says, then as the
    server had it."""
    for directive in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(directive)
        if not isinstance(order, list):
            raise bad_arg_type(_LIST, order)
        key = _field(directive, SET_ELEMENT_ORDER, ERR_SET_ELEMENT_ORDER)
        current, change = _list_at(original, key), _list_at(patch, key)
        items, strategy, merge_key = _slice_field(node, key)
        _check_order(change, order, merge_key)
        if key in original and key in patch:
            if strategy == "merge":
                merged = _merge_list(current, change, items, merge_key, False)
            else:
                merged = change
        elif key in original:
            merged = current
        elif key in patch:
            merged = _remove_directives(change)[0]
        else:
            continue
        ordered, server_only = _partition(merged, order, merge_key)
        is_map = element_type(current, change) is dict
        original[key] = _normalize(ordered, server_only, order, current, merge_key, is_map)
        patch.pop(key, None)


def _list_at(values: dict[str, Any], key: str) -> list[Any]:
    """The list at `key` ([] if absent), which must be a list if present."""
    value = values.get(key, [])
    if not isinstance(value, list):
        raise bad_arg_type(_LIST, value)
    return value


def _check_order(change: list[Any], order: list[Any], merge_key: str) -> None:
    """`validatePatchWithSetOrderList`: the patch's elements appear in the order list,
    in the same relative order."""
    if not change or not order:
        return
    listed = _without_deletions(change)[0] if merge_key else change
    i = j = 0
    while i < len(listed) and j < len(order):
        if isinstance(listed[i], dict) and DIRECTIVE in listed[i]:
            i += 1
            continue
        if _merge_key_equal(listed[i], order[j], merge_key):
            i += 1
        j += 1
    if i < len(listed) and j >= len(order):
        raise server_error(
            f"The order in patch list:\n{go_format(change)}\n doesn't match "
            f"{SET_ELEMENT_ORDER} list:\n{go_format(order)}\n"
        )


def _merge_key_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return go_equal(left, right)
    return go_equal(_merge_key(left, merge_key), _merge_key(right, merge_key))


def _merge_key(item: Any, merge_key: str) -> Any:
    """The merge key value of `item`, which must be a map that has one."""
    if not isinstance(item, dict):
        raise bad_arg_type(_MAP, item)
    if merge_key not in item:
        raise no_merge_key(item, merge_key)
    return item[merge_key]


def _merge_list(
    original: list[Any], patch: list[Any], items: SchemaNode, merge_key: str, is_delete_list: bool
) -> list[Any]:
    """`mergeSlice`: a list with strategy merge (or a `$deleteFromPrimitiveList`)."""
    if not original and not patch:
        return original
    is_map = element_type(original, patch) is dict
    if not is_map:
        if is_delete_list:
            deleted = {go_key(item) for item in patch}
            return [item for item in original if go_key(item) not in deleted]
        merged = deduplicate_scalars(original + patch)
    elif not merge_key:
        raise server_error(f"cannot merge lists without merge key for {_go_kind(items)}")
    else:
        original, patch = _apply_list_directives(original, patch, merge_key)
        merged = list(original)
        for element in patch:
            index = _find(merged, merge_key, _merge_key(element, merge_key))
            if index is None:
                merged.append(element)
            else:
                merged[index] = merge_map(merged[index], element, items)
    in_patch, server_only = _partition(merged, patch, merge_key)
    return _normalize(in_patch, server_only, patch, original, merge_key, is_map)


def _apply_list_directives(
    original: list[Any], patch: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    """`mergeSliceWithSpecialElements`: `$patch: delete` elements remove their match
    from the original, `$patch: replace` makes the rest of the patch the whole list."""
    plain: list[Any] = []
    replace = False
    for element in patch:
        if DIRECTIVE not in element:
            plain.append(element)
            continue
        directive = element[DIRECTIVE]
        if directive == "delete":
            if merge_key not in element:
                raise no_merge_key(element, merge_key)
            value = element[merge_key]
            original = [
                o for o in original if not (merge_key in o and go_equal(o[merge_key], value))
            ]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise server_error("merging lists cannot yet be specified in the patch")
        else:
            raise bad_patch_type(directive, element)
    return (plain, []) if replace else (original, plain)


def _partition(merged: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """The elements of `merged` that appear in `by` (by merge key for maps), and the
    others."""
    keys = set() if merge_key else {go_key(item) for item in by}
    inside: list[Any] = []
    outside: list[Any] = []
    for item in merged:
        if merge_key:
            found = _find(by, merge_key, _merge_key(item, merge_key)) is not None
        else:
            found = go_key(item) in keys
        (inside if found else outside).append(item)
    return inside, outside


def _normalize(
    in_patch: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    merge_key: str,
    is_map: bool,
) -> list[Any]:
    """`normalizeElementOrder`: each part sorted by its own order, then interleaved:
    a server element goes first only if the server had it before the patch element."""
    patched = _sort(in_patch, patch_order, merge_key, is_map)
    server = _sort(server_only, server_order, merge_key, is_map)
    result: list[Any] = []
    while server and patched:
        first = _index(server_order, server[0], merge_key, is_map)
        other = _index(server_order, patched[0], merge_key, is_map)
        result.append(server.pop(0) if 0 <= first < other else patched.pop(0))
    return result + patched + server


def _sort(items: list[Any], order: list[Any], merge_key: str, is_map: bool) -> list[Any]:
    """`normalizeSliceOrder`: stable sort by position in `order`; `$patch: delete`
    elements last."""
    deletions: list[Any] = []
    if is_map:
        for item in (*items, *order):
            _merge_key(item, merge_key)
        items, deletions = _without_deletions(items)

    def position(item: Any) -> int:
        index = _index(order, item, merge_key, is_map)
        return len(order) if index < 0 else index

    return sorted(items, key=position) + deletions


def _without_deletions(items: list[Any]) -> tuple[list[Any], list[Any]]:
    kept: list[Any] = []
    deleted: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            raise bad_arg_type(_MAP, item)
        (deleted if item.get(DIRECTIVE) == "delete" else kept).append(item)
    return kept, deleted


def _index(items: list[Any], value: Any, merge_key: str, is_map: bool) -> int:
    """The position of `value` in `items` (by merge key for maps), or -1."""
    if is_map:
        value = value.get(merge_key) if isinstance(value, dict) else None
    for i, item in enumerate(items):
        if is_map:
            item = item.get(merge_key) if isinstance(item, dict) else None
        if go_equal(item, value):
            return i
    return -1


def _find(items: list[Any], merge_key: str, value: Any) -> int | None:
    """`findMapInSliceBasedOnKeyValue`: the first map whose merge key is `value`."""
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise server_error(f"value for key {i} is not a map")
        if merge_key in item and go_equal(item[merge_key], value):
            return i
    return None


def _field(key: str, prefix: str, error: str) -> str:
    """The field a `<prefix>/<field>` directive names (`extractKey`)."""
    head, slash, field = key.partition("/")
    if not slash or head != prefix:
        raise bad_request(error)
    return field


def _strategy(node: SchemaNode) -> str:
    """The patch strategy other than retainKeys ("merge", "replace" or "")."""
    strategies = (node.patch_strategy or "").split(",")
    return next((s for s in strategies if s != "retainKeys"), "")


def _struct_field(node: SchemaNode, key: str) -> tuple[SchemaNode, str, str]:
    """`LookupPatchMetadataForStruct`: the node, strategy and merge key of field `key`."""
    if node.type is NodeType.MAP:
        value = node.additional_properties()
        assert value is not None
        return value, "", ""
    child = node.properties().get(key)
    if child is None:
        raise server_error(
            f"unable to find api field in struct {node.struct_name} for the json field "
            + go_quote(key)
        )
    return child, _strategy(child), child.merge_key or ""


def _slice_field(node: SchemaNode, key: str) -> tuple[SchemaNode, str, str]:
    """`LookupPatchMetadataForSlice`: the element node, strategy and merge key."""
    child, strategy, merge_key = _struct_field(node, key)
    items = child.items()
    if items is None:
        raise server_error(f"expected slice or array type, but got: {_go_kind(node)}")
    return items, strategy, merge_key


def _go_kind(node: SchemaNode) -> str:
    """The Go reflect.Kind of the type behind `node`."""
    if node.type is NodeType.INTEGER:
        return node.go_type
    if node.type is NodeType.ANY and node.definition is None:
        return "interface"
    return _GO_KINDS.get(node.type, "struct")
