"""Defaults of admissionregistration.k8s.io/v1 (pkg/apis/admissionregistration/v1, 1.32).

Webhooks: failure policy Fail, match policy Equivalent, empty (match-all) namespace
and object selectors, a 10 s timeout, a service port of 443, rules scoped `*`, and for
mutating webhooks reinvocation Never. ValidatingAdmissionPolicy: failure policy Fail;
its match constraints, like a binding's match resources, get the webhooks' match
policy, selectors and rule scope. `sideEffects` and `admissionReviewVersions` are
required in v1, so never defaulted.

Invariants: in place, fills only unset fields, idempotent.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.defaults._fields import (
    Defaulter,
    JSONObject,
    child,
    items,
    path,
    set_if_absent,
    struct,
)

GROUP: Final = "admissionregistration.k8s.io"
WEBHOOK_TIMEOUT_SECONDS: Final = 10
SERVICE_PORT: Final = 443


def _default_rules(obj: JSONObject, key: str) -> None:
    for rule in items(obj, key):
        set_if_absent(rule, "scope", "*")


def _default_selectors(obj: JSONObject) -> None:
    set_if_absent(obj, "matchPolicy", "Equivalent")
    set_if_absent(obj, "namespaceSelector", {})
    set_if_absent(obj, "objectSelector", {})


def _default_webhook(webhook: JSONObject) -> None:
    set_if_absent(webhook, "failurePolicy", "Fail")
    _default_selectors(webhook)
    set_if_absent(webhook, "timeoutSeconds", WEBHOOK_TIMEOUT_SECONDS)
    if (service := path(webhook, "clientConfig", "service")) is not None:
        set_if_absent(service, "port", SERVICE_PORT)
    _default_rules(webhook, "rules")


def _validating_webhooks(configuration: JSONObject) -> None:
    for webhook in items(configuration, "webhooks"):
        _default_webhook(webhook)


def _mutating_webhooks(configuration: JSONObject) -> None:
    for webhook in items(configuration, "webhooks"):
        _default_webhook(webhook)
        set_if_absent(webhook, "reinvocationPolicy", "Never")


def _default_match_resources(match: JSONObject | None) -> None:
    if match is not None:
        _default_selectors(match)
        _default_rules(match, "resourceRules")
        _default_rules(match, "excludeResourceRules")


def _policy(policy: JSONObject) -> None:
    spec = struct(policy, "spec")
    if spec is not None:
        set_if_absent(spec, "failurePolicy", "Fail")
        _default_match_resources(child(spec, "matchConstraints"))


def _binding(binding: JSONObject) -> None:
    _default_match_resources(path(binding, "spec", "matchResources"))


DEFAULTERS: Final[dict[tuple[str, str, str], Defaulter]] = {
    (GROUP, "v1", "ValidatingWebhookConfiguration"): _validating_webhooks,
    (GROUP, "v1", "MutatingWebhookConfiguration"): _mutating_webhooks,
    (GROUP, "v1", "ValidatingAdmissionPolicy"): _policy,
    (GROUP, "v1", "ValidatingAdmissionPolicyBinding"): _binding,
}
