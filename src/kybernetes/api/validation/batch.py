"""Jobs and CronJobs.

The counterpart of `pkg/apis/batch/validation` (Kubernetes 1.32, with the GA elastic
indexed jobs and the options a 1.32 apiserver passes): a Job's pods restart
`OnFailure` or `Never`, its counts are non-negative, its selector matches its template
and (unless `manualSelector`) is the one the apiserver generated from the Job's UID;
CronJobs are in `cron`.

A Job's selector, completion mode, pod failure policy and template are fixed once
created (the template's scheduling directives stay mutable while the Job is suspended
and has not started).

Invariants: pure functions; objects are defaulted `batch/v1` dicts.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.validation.common import (
    Errors,
    Obj,
    as_selector,
    child,
    children,
    go_string_map,
    immutable,
    nonnegative,
    optional_child,
    optional_number,
    qualified_name,
    string_map,
    text,
)
from kybernetes.api.validation.errors import (
    OMITTED,
    FieldPath,
    duplicate,
    invalid,
    not_supported,
    required,
    too_many,
)
from kybernetes.api.validation.metadata import validate_label_selector
from kybernetes.api.validation.names import is_dns1123_label
from kybernetes.api.validation.podspec import validate_pod_template_spec

_SPEC: Final = FieldPath("spec")
_MAX_INDEXED_PARALLELISM: Final = 100_000
_MAX_FAILED_INDEXES: Final = 100_000
_COMPLETIONS_SOFT_LIMIT: Final = 100_000
_HIGH_COMPLETIONS_LIMIT: Final = 10_000
_MAX_RULES: Final = 20
_MAX_EXIT_CODES: Final = 255
_MAX_CONDITION_PATTERNS: Final = 20
_ACTIONS: Final = ("Count", "FailIndex", "FailJob", "Ignore")
_EXIT_OPERATORS: Final = ("In", "NotIn")
_CONDITION_STATUSES: Final = ("False", "True", "Unknown")
_REPLACEMENT_POLICIES: Final = ("Failed", "TerminatingOrFailed")
# The labels the apiserver puts on a Job's pod template (legacy and prefixed).
_GENERATED_LABELS: Final = (
    ("controller-uid", "uid"),
    ("job-name", "name"),
    ("batch.kubernetes.io/controller-uid", "uid"),
    ("batch.kubernetes.io/job-name", "name"),
)


def _has_label(metadata: Obj, key: str, expected: str, path: FieldPath) -> Errors:
    labels, label_path = string_map(metadata, "labels"), path.child("labels").key(key)
    if key not in labels:
        return [required(label_path, f"must be '{expected}'")]
    if labels[key] != expected:
        return [invalid(label_path, go_string_map(metadata, "labels"), f"must be '{expected}'")]
    return []


def _generated_selector(job: Obj) -> Errors:
    """A generated selector matches the Job's own labels (`validateGeneratedSelector`)."""
    spec, metadata = child(job, "spec"), child(job, "metadata")
    selector = optional_child(spec, "selector")
    if spec.get("manualSelector") is True or selector is None:
        return []
    uid, name = text(metadata, "uid"), text(metadata, "name")
    errors = [] if uid else [required(FieldPath("metadata", "uid"))]
    template_metadata = child(child(spec, "template"), "metadata")
    expected = {key: uid if source == "uid" else name for key, source in _GENERATED_LABELS}
    for key, value in expected.items():
        errors += _has_label(template_metadata, key, value, _SPEC.child("template", "metadata"))
    converted = as_selector(selector)
    if converted is not None and not converted.matches(expected):
        errors.append(
            invalid(_SPEC.child("selector"), dict(selector), "`selector` not auto-generated")
        )
    return errors


def _pod_failure_policy(spec: Obj, path: FieldPath) -> Errors:
    rules = children(child(spec, "podFailurePolicy"), "rules")
    rules_path = path.child("rules")
    errors = [too_many(rules_path, len(rules), _MAX_RULES)] if len(rules) > _MAX_RULES else []
    template_spec = child(child(spec, "template"), "spec")
    names = {
        text(c, "name")
        for key in ("containers", "initContainers")
        for c in children(template_spec, key)
    }
    for index, rule in enumerate(rules):
        rule_path = rules_path.index(index)
        action = text(rule, "action")
        if not action:
            errors.append(
                required(rule_path.child("action"), f"valid values: {_go_list(_ACTIONS)}")
            )
        elif action == "FailIndex":
            if spec.get("backoffLimitPerIndex") is None:
                detail = "requires the backoffLimitPerIndex to be set"
                errors.append(invalid(rule_path.child("action"), action, detail))
        elif action not in _ACTIONS:
            errors.append(not_supported(rule_path.child("action"), action, _ACTIONS))
        exit_codes = optional_child(rule, "onExitCodes")
        conditions = children(rule, "onPodConditions")
        if exit_codes is not None:
            errors += _on_exit_codes(exit_codes, rule_path.child("onExitCodes"), names)
        if conditions:
            errors += _on_pod_conditions(conditions, rule_path.child("onPodConditions"))
        if exit_codes is not None and conditions:
            detail = "specifying both OnExitCodes and OnPodConditions is not supported"
            errors.append(invalid(rule_path, OMITTED, detail))
        if exit_codes is None and not conditions:
            detail = "specifying one of OnExitCodes and OnPodConditions is required"
            errors.append(invalid(rule_path, OMITTED, detail))
    return errors


def _go_list(values: tuple[str, ...]) -> str:
    """A string list as Go's `%q` prints it: `["a" "b"]`."""
    return "[" + " ".join(f'"{value}"' for value in values) + "]"


def _on_exit_codes(requirement: Obj, path: FieldPath, containers: set[str]) -> Errors:
    operator = text(requirement, "operator")
    errors: Errors = []
    if not operator:
        detail = f"valid values: {_go_list(_EXIT_OPERATORS)}"
        errors.append(required(path.child("operator"), detail))
    elif operator not in _EXIT_OPERATORS:
        errors.append(not_supported(path.child("operator"), operator, _EXIT_OPERATORS))
    container = requirement.get("containerName")
    if isinstance(container, str) and container not in containers:
        detail = "must be one of the container or initContainer names in the pod template"
        errors.append(invalid(path.child("containerName"), container, detail))
    values = [v for v in requirement.get("values") or [] if isinstance(v, int)]
    values_path = path.child("values")
    if not values:
        errors.append(invalid(values_path, values, "at least one value is required"))
    elif len(values) > _MAX_EXIT_CODES:
        errors.append(too_many(values_path, len(values), _MAX_EXIT_CODES))
    seen: set[int] = set()
    for index, value in enumerate(values):
        if operator == "In" and value == 0:
            errors.append(
                invalid(values_path.index(index), value, "must not be 0 for the In operator")
            )
        if value in seen:
            errors.append(duplicate(values_path.index(index), value))
        seen.add(value)
    if values != sorted(values):
        errors.append(invalid(values_path, values, "must be ordered"))
    return errors


def _on_pod_conditions(patterns: list[Obj], path: FieldPath) -> Errors:
    errors = (
        [too_many(path, len(patterns), _MAX_CONDITION_PATTERNS)]
        if len(patterns) > _MAX_CONDITION_PATTERNS
        else []
    )
    for index, pattern in enumerate(patterns):
        pattern_path = path.index(index)
        errors += qualified_name(text(pattern, "type"), pattern_path.child("type"))
        status = text(pattern, "status")
        if not status:
            detail = f"valid values: {_go_list(_CONDITION_STATUSES)}"
            errors.append(required(pattern_path.child("status"), detail))
        elif status not in _CONDITION_STATUSES:
            errors.append(not_supported(pattern_path.child("status"), status, _CONDITION_STATUSES))
    return errors


def _indexed(spec: Obj, path: FieldPath) -> Errors:
    completions = optional_number(spec, "completions")
    parallelism = optional_number(spec, "parallelism")
    max_failed = optional_number(spec, "maxFailedIndexes")
    errors: Errors = []
    if completions is None:
        errors.append(required(path.child("completions"), "when completion mode is Indexed"))
    if parallelism is not None and parallelism > _MAX_INDEXED_PARALLELISM:
        detail = (
            f"must be less than or equal to {_MAX_INDEXED_PARALLELISM} "
            "when completion mode is Indexed"
        )
        errors.append(invalid(path.child("parallelism"), parallelism, detail))
    if completions is not None and max_failed is not None and max_failed > completions:
        errors.append(
            invalid(
                path.child("maxFailedIndexes"),
                max_failed,
                "must be less than or equal to completions",
            )
        )
    if max_failed is not None and max_failed > _MAX_FAILED_INDEXES:
        detail = f"must be less than or equal to {_MAX_FAILED_INDEXES}"
        errors.append(invalid(path.child("maxFailedIndexes"), max_failed, detail))
    if (
        completions is not None
        and completions > _COMPLETIONS_SOFT_LIMIT
        and spec.get("backoffLimitPerIndex") is not None
    ):
        suffix = (
            f"when completions are above {_COMPLETIONS_SOFT_LIMIT} "
            "and used with backoff limit per index"
        )
        if max_failed is None:
            detail = f"must be specified when completions is above {_COMPLETIONS_SOFT_LIMIT}"
            errors.append(required(path.child("maxFailedIndexes"), detail))
        if parallelism is not None and parallelism > _HIGH_COMPLETIONS_LIMIT:
            detail = f"must be less than or equal to {_HIGH_COMPLETIONS_LIMIT} {suffix}"
            errors.append(invalid(path.child("parallelism"), parallelism, detail))
        if max_failed is not None and max_failed > _HIGH_COMPLETIONS_LIMIT:
            detail = f"must be less than or equal to {_HIGH_COMPLETIONS_LIMIT} {suffix}"
            errors.append(invalid(path.child("maxFailedIndexes"), max_failed, detail))
    return errors


def validate_job_spec(spec: Obj, path: FieldPath) -> Errors:
    """`validateJobSpec`: counts, completion mode, policies, template, restart policy."""
    errors: Errors = []
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                "ttlSecondsAfterFinished", "backoffLimitPerIndex"):  # fmt: skip
        if (value := optional_number(spec, key)) is not None:
            errors += nonnegative(value, path.child(key))
    if (max_failed := optional_number(spec, "maxFailedIndexes")) is not None:
        errors += nonnegative(max_failed, path.child("maxFailedIndexes"))
        if spec.get("backoffLimitPerIndex") is None:
            errors.append(
                required(path.child("backoffLimitPerIndex"), "when maxFailedIndexes is specified")
            )
    mode = spec.get("completionMode")
    if isinstance(mode, str):
        if mode not in ("NonIndexed", "Indexed"):
            errors.append(
                not_supported(path.child("completionMode"), mode, ["NonIndexed", "Indexed"])
            )
        if mode == "Indexed":
            errors += _indexed(spec, path)
    if mode in (None, "NonIndexed"):
        for key in ("backoffLimitPerIndex", "maxFailedIndexes"):
            if (value := optional_number(spec, key)) is not None:
                errors.append(invalid(path.child(key), value, "requires indexed completion mode"))
        if (success := optional_child(spec, "successPolicy")) is not None:
            errors.append(
                invalid(
                    path.child("successPolicy"), dict(success), "requires indexed completion mode"
                )
            )
    if spec.get("podFailurePolicy") is not None:
        errors += _pod_failure_policy(spec, path.child("podFailurePolicy"))
    replacement = spec.get("podReplacementPolicy")
    if isinstance(replacement, str):
        supported = (
            ("Failed",) if spec.get("podFailurePolicy") is not None else _REPLACEMENT_POLICIES
        )
        if replacement not in supported:
            errors.append(not_supported(path.child("podReplacementPolicy"), replacement, supported))
    template_path = path.child("template")
    errors += validate_pod_template_spec(child(spec, "template"), template_path)
    restart = text(child(child(spec, "template"), "spec"), "restartPolicy")
    restart_path = template_path.child("spec", "restartPolicy")
    if restart in ("Always", ""):
        errors.append(required(restart_path, 'valid values: "OnFailure", "Never"'))
    elif restart not in ("OnFailure", "Never"):
        errors.append(not_supported(restart_path, restart, ["OnFailure", "Never"]))
    elif spec.get("podFailurePolicy") is not None and restart != "Never":
        detail = 'only "Never" is supported when podFailurePolicy is specified'
        errors.append(invalid(restart_path, restart, detail))
    return errors


def _job_spec_with_selector(spec: Obj) -> Errors:
    errors = validate_job_spec(spec, _SPEC)
    selector = optional_child(spec, "selector")
    if selector is None:
        errors.append(required(_SPEC.child("selector")))
    else:
        errors += validate_label_selector(selector, _SPEC.child("selector"))
    metadata = child(child(spec, "template"), "metadata")
    converted = as_selector(selector)
    if converted is not None and not converted.matches(string_map(metadata, "labels")):
        path, shown = (
            _SPEC.child("template", "metadata", "labels"),
            go_string_map(metadata, "labels"),
        )
        errors.append(invalid(path, shown, "`selector` does not match template `labels`"))
    return errors


def validate_job(job: Obj) -> Errors:
    """A Job on create (`ValidateJob` without its ObjectMeta)."""
    spec = child(job, "spec")
    errors = _generated_selector(job) + _job_spec_with_selector(spec)
    completions = optional_number(spec, "completions")
    if spec.get("completionMode") == "Indexed" and completions is not None and completions > 0:
        name = text(child(job, "metadata"), "name")
        hostname = f"{name}-{completions - 1}"
        if is_dns1123_label(hostname):
            detail = f"will not able to create pod with invalid DNS label: {hostname}"
            errors.append(invalid(FieldPath("metadata", "name"), name, detail))
    return errors


_SCHEDULING_DIRECTIVES: Final = ("nodeSelector", "tolerations", "schedulingGates")


def _template_update(new_spec: Obj, old_spec: Obj, mutable_scheduling: bool) -> Errors:
    template, old_template = child(new_spec, "template"), child(old_spec, "template")
    if mutable_scheduling:
        new_pod, old_pod = child(template, "spec"), dict(child(old_template, "spec"))
        for key in _SCHEDULING_DIRECTIVES:
            old_pod[key] = new_pod.get(key)
        node_affinity = child(new_pod, "affinity").get("nodeAffinity")
        old_pod["affinity"] = {**child(old_pod, "affinity"), "nodeAffinity": node_affinity}
        metadata = child(template, "metadata")
        old_metadata = {**child(old_template, "metadata")}
        for key in ("labels", "annotations"):
            old_metadata[key] = metadata.get(key)
        old_template = {**old_template, "metadata": old_metadata, "spec": old_pod}
    return immutable(dict(template), dict(old_template), _SPEC.child("template"))


def validate_job_update(new: Obj, old: Obj) -> Errors:
    """A Job update (`ValidateJobSpecUpdate`)."""
    new_spec, old_spec = child(new, "spec"), child(old, "spec")
    errors = _job_spec_with_selector(new_spec)
    completions, old_completions = new_spec.get("completions"), old_spec.get("completions")
    if new_spec.get("completionMode") != "Indexed":
        errors += immutable(completions, old_completions, _SPEC.child("completions"))
    elif (
        completions != old_completions
        and completions is not None
        and completions != new_spec.get("parallelism")
    ):
        detail = "can only be modified in tandem with spec.parallelism"
        errors.append(invalid(_SPEC.child("completions"), completions, detail))
    errors += immutable(new_spec.get("selector"), old_spec.get("selector"), _SPEC.child("selector"))
    suspended = old_spec.get("suspend") is True and child(old, "status").get("startTime") is None
    errors += _template_update(new_spec, old_spec, suspended)
    for key in (
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "successPolicy",
        "managedBy",
    ):
        errors += immutable(new_spec.get(key), old_spec.get(key), _SPEC.child(key))
    return errors


def validate_job_status_update(new: Obj) -> Errors:
    """A Job status update: counters are non-negative."""
    status, path = child(new, "status"), FieldPath("status")
    errors: Errors = []
    for key in ("active", "succeeded", "failed", "ready", "terminating"):
        if (value := optional_number(status, key)) is not None:
            errors += nonnegative(value, path.child(key))
    return errors
