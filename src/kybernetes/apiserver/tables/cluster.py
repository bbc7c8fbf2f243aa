"""Cluster-wide and policy kinds, as kube-apiserver 1.32 prints them.

RoleBindings and ClusterRoleBindings (Roles and ClusterRoles have no printer), Leases,
PriorityClasses, PodDisruptionBudgets, EndpointSlices, RuntimeClasses,
CertificateSigningRequests, FlowSchemas (a list is ordered by matching precedence,
then name) and PriorityLevelConfigurations, webhook configurations and
ValidatingAdmissionPolicies with their bindings.

Where the printer prints a Go value's `String()` (a binding's selector `ParamRef`),
the same text is produced.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .cells import (
    AGE,
    NAME,
    OBJECT_META,
    Column,
    Doc,
    Obj,
    PrintContext,
    Printer,
    created,
    dig,
    int_or_string,
    integer,
    items,
    list_with_more,
    mapping,
    name_of,
    text,
)
from .duration import age, human_duration


def _subjects(binding: Obj) -> list[str]:
    """`rbac.SubjectsStrings`: users, groups, service accounts, comma-space joined."""
    users, groups, accounts = [], [], []
    for subject in items(binding, "subjects"):
        kind, name = text(subject, "kind"), text(subject, "name")
        if kind == "ServiceAccount":
            accounts.append(f"{text(subject, 'namespace')}/{name}")
        elif kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
    return [", ".join(users), ", ".join(groups), ", ".join(accounts)]


def _binding(binding: Obj, ctx: PrintContext) -> list[Any]:
    role = f"{text(binding, 'roleRef', 'kind')}/{text(binding, 'roleRef', 'name')}"
    cells = [name_of(binding), role, age(created(binding), ctx.now)]
    return cells + _subjects(binding) if ctx.wide else cells


def _binding_printer(kind: str) -> Printer:
    noun = kind[0].lower() + kind[1:]
    return Printer(
        (
            NAME,
            Column("Role", "string", Doc(f"rbac.v1.{kind}", "roleRef")),
            AGE,
            Column("Users", "string", f"Users in the {noun}", priority=1),
            Column("Groups", "string", f"Groups in the {noun}", priority=1),
            Column("ServiceAccounts", "string", f"ServiceAccounts in the {noun}", priority=1),
        ),
        _binding,
    )


def _lease(lease: Obj, ctx: PrintContext) -> list[Any]:
    return [name_of(lease), text(lease, "spec", "holderIdentity"), age(created(lease), ctx.now)]


def _priority_class(priority_class: Obj, ctx: PrintContext) -> list[Any]:
    cells = [
        name_of(priority_class),
        integer(priority_class, "value"),
        dig(priority_class, "globalDefault") is True,
        age(created(priority_class), ctx.now),
    ]
    return [*cells, text(priority_class, "preemptionPolicy")] if ctx.wide else cells


def _pod_disruption_budget(pdb: Obj, ctx: PrintContext) -> list[Any]:
    spec = mapping(pdb, "spec")
    min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
    return [
        name_of(pdb),
        "N/A" if min_available is None else int_or_string(min_available),
        "N/A" if max_unavailable is None else int_or_string(max_unavailable),
        integer(pdb, "status", "disruptionsAllowed"),
        age(created(pdb), ctx.now),
    ]


def _slice_ports(ports: list[Any]) -> str:
    shown = []
    for port in ports[:3]:
        number, name = dig(port, "port"), dig(port, "name")
        shown.append(str(number) if number is not None else name if name is not None else "*")
    return list_with_more(shown, len(ports), 3)


def _slice_endpoints(endpoints: list[Any]) -> str:
    addresses = [a for e in endpoints for a in items(e, "addresses")]
    return list_with_more(addresses, len(addresses), 3)


def _endpoint_slice(endpoint_slice: Obj, ctx: PrintContext) -> list[Any]:
    return [
        name_of(endpoint_slice),
        text(endpoint_slice, "addressType"),
        _slice_ports(items(endpoint_slice, "ports")),
        _slice_endpoints(items(endpoint_slice, "endpoints")),
        age(created(endpoint_slice), ctx.now),
    ]


def _runtime_class(runtime_class: Obj, ctx: PrintContext) -> list[Any]:
    handler = text(runtime_class, "handler")
    return [name_of(runtime_class), handler, age(created(runtime_class), ctx.now)]


def _csr_status(csr: Obj) -> str:
    """`extractCSRStatus`: Denied, Approved or Pending, then `,Failed`, `,Issued`."""
    types = {dig(c, "type") for c in items(csr, "status", "conditions")}
    status = "Denied" if "Denied" in types else "Approved" if "Approved" in types else "Pending"
    if "Failed" in types:
        status += ",Failed"
    if text(csr, "status", "certificate"):
        status += ",Issued"
    return status


def _certificate_signing_request(csr: Obj, ctx: PrintContext) -> list[Any]:
    expiration = dig(csr, "spec", "expirationSeconds")
    duration = "<none>"
    if isinstance(expiration, int):
        duration = human_duration(timedelta(seconds=expiration))
    return [
        name_of(csr),
        age(created(csr), ctx.now),
        text(csr, "spec", "signerName") or "<none>",
        text(csr, "spec", "username"),
        duration,
        _csr_status(csr),
    ]


def _flow_schema(schema: Obj, ctx: PrintContext) -> list[Any]:
    method = dig(schema, "spec", "distinguisherMethod")
    dangling = "?"
    for condition in items(schema, "status", "conditions"):
        if dig(condition, "type") == "Dangling":
            dangling = text(condition, "status")
            break
    return [
        name_of(schema),
        text(schema, "spec", "priorityLevelConfiguration", "name"),
        integer(schema, "spec", "matchingPrecedence"),
        "<none>" if method is None else text(method, "type"),
        age(created(schema), ctx.now),
        dangling,
    ]


def _priority_level(level: Obj, ctx: PrintContext) -> list[Any]:
    shares: Any = "<none>"
    queues: Any = "<none>"
    hand_size: Any = "<none>"
    queue_length_limit: Any = "<none>"
    limited = dig(level, "spec", "limited")
    if limited is not None:
        shares = integer(limited, "nominalConcurrencyShares")
        queuing = dig(limited, "limitResponse", "queuing")
        if queuing is not None:
            queues = integer(queuing, "queues")
            hand_size = integer(queuing, "handSize")
            queue_length_limit = integer(queuing, "queueLengthLimit")
    return [
        name_of(level),
        text(level, "spec", "type"),
        shares,
        queues,
        hand_size,
        queue_length_limit,
        age(created(level), ctx.now),
    ]


def _webhook_configuration(configuration: Obj, ctx: PrintContext) -> list[Any]:
    webhooks = len(items(configuration, "webhooks"))
    return [name_of(configuration), webhooks, age(created(configuration), ctx.now)]


def _admission_policy(policy: Obj, ctx: PrintContext) -> list[Any]:
    param_kind = dig(policy, "spec", "paramKind")
    shown = "<unset>"
    if param_kind is not None:
        shown = f"{text(param_kind, 'apiVersion')}/{text(param_kind, 'kind')}"
    validations = len(items(policy, "spec", "validations"))
    return [name_of(policy), validations, shown, age(created(policy), ctx.now)]


def _go_label_selector(selector: Obj) -> str:
    """The generated `(*metav1.LabelSelector).String()`."""
    labels = mapping(selector, "matchLabels")
    shown_labels = "".join(f"{k}: {labels[k]}," for k in sorted(labels))
    expressions = "".join(
        f"LabelSelectorRequirement{{Key:{text(e, 'key')},Operator:{text(e, 'operator')},"
        f"Values:[{' '.join(str(v) for v in items(e, 'values'))}],}},"
        for e in items(selector, "matchExpressions")
    )
    return (
        f"&LabelSelector{{MatchLabels:map[string]string{{{shown_labels}}},"
        f"MatchExpressions:[]LabelSelectorRequirement{{{expressions}}},}}"
    )


def _admission_policy_binding(binding: Obj, ctx: PrintContext) -> list[Any]:
    param_ref = dig(binding, "spec", "paramRef")
    shown = "<unset>"
    if param_ref is not None:
        if name := text(param_ref, "name"):
            shown = f"{text(param_ref, 'namespace') or '*'}/{name}"
        elif (selector := dig(param_ref, "selector")) is not None:
            shown = _go_label_selector(selector)
    policy = text(binding, "spec", "policyName")
    return [name_of(binding), policy, shown, age(created(binding), ctx.now)]


_WEBHOOKS = Printer(
    (
        NAME,
        Column(
            "Webhooks",
            "integer",
            "Webhooks indicates the number of webhooks registered in this configuration",
        ),
        AGE,
    ),
    _webhook_configuration,
)
_FLOW = "flowcontrol.v1"
_QUEUING = f"{_FLOW}.QueuingConfiguration"
_CSR = "certificates.v1.CertificateSigningRequest"
_SLICE = "discovery.v1.EndpointSlice"
_ADMISSION = "admissionregistration.k8s.io"

PRINTERS = {
    ("rbac.authorization.k8s.io", "RoleBinding"): _binding_printer("RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _binding_printer("ClusterRoleBinding"),
    ("coordination.k8s.io", "Lease"): Printer(
        (NAME, Column("Holder", "string", Doc("coordination.v1.LeaseSpec", "holderIdentity")), AGE),
        _lease,
    ),
    ("scheduling.k8s.io", "PriorityClass"): Printer(
        (
            NAME,
            Column("Value", "integer", Doc("scheduling.v1.PriorityClass", "value")),
            Column(
                "Global-Default", "boolean", Doc("scheduling.v1.PriorityClass", "globalDefault")
            ),
            AGE,
            Column(
                "PreemptionPolicy", "string", Doc("scheduling.v1.PriorityClass", "preemptionPolicy")
            ),
        ),
        _priority_class,
    ),
    ("policy", "PodDisruptionBudget"): Printer(
        (
            NAME,
            Column("Min Available", "string", "The minimum number of pods that must be available."),
            Column(
                "Max Unavailable", "string", "The maximum number of pods that may be unavailable."
            ),
            Column(
                "Allowed Disruptions",
                "integer",
                "Calculated number of pods that may be disrupted at this time.",
            ),
            AGE,
        ),
        _pod_disruption_budget,
    ),
    ("discovery.k8s.io", "EndpointSlice"): Printer(
        (
            NAME,
            Column("AddressType", "string", Doc(_SLICE, "addressType")),
            Column("Ports", "string", Doc(_SLICE, "ports")),
            Column("Endpoints", "string", Doc(_SLICE, "endpoints")),
            AGE,
        ),
        _endpoint_slice,
    ),
    ("node.k8s.io", "RuntimeClass"): Printer(
        (NAME, Column("Handler", "string", Doc(OBJECT_META, "handler")), AGE), _runtime_class
    ),
    ("certificates.k8s.io", "CertificateSigningRequest"): Printer(
        (
            NAME,
            AGE,
            Column("SignerName", "string", Doc(f"{_CSR}Spec", "signerName")),
            Column("Requestor", "string", Doc(f"{_CSR}Spec", "request")),
            Column("RequestedDuration", "string", Doc(f"{_CSR}Spec", "expirationSeconds")),
            Column("Condition", "string", Doc(f"{_CSR}Status", "conditions")),
        ),
        _certificate_signing_request,
    ),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"): Printer(
        (
            NAME,
            Column(
                "PriorityLevel",
                "string",
                Doc(f"{_FLOW}.PriorityLevelConfigurationReference", "name"),
            ),
            Column(
                "MatchingPrecedence", "string", Doc(f"{_FLOW}.FlowSchemaSpec", "matchingPrecedence")
            ),
            Column(
                "DistinguisherMethod",
                "string",
                Doc(f"{_FLOW}.FlowSchemaSpec", "distinguisherMethod"),
            ),
            AGE,
            Column(
                "MissingPL",
                "string",
                "references a broken or non-existent PriorityLevelConfiguration",
            ),
        ),
        _flow_schema,
        sort_key=lambda s: (integer(s, "spec", "matchingPrecedence"), name_of(s)),
    ),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"): Printer(
        (
            NAME,
            Column("Type", "string", Doc(f"{_FLOW}.PriorityLevelConfigurationSpec", "type")),
            Column(
                "NominalConcurrencyShares",
                "string",
                Doc(f"{_FLOW}.LimitedPriorityLevelConfiguration", "nominalConcurrencyShares"),
            ),
            Column("Queues", "string", Doc(_QUEUING, "queues")),
            Column("HandSize", "string", Doc(_QUEUING, "handSize")),
            Column("QueueLengthLimit", "string", Doc(_QUEUING, "queueLengthLimit")),
            AGE,
        ),
        _priority_level,
    ),
    (_ADMISSION, "MutatingWebhookConfiguration"): _WEBHOOKS,
    (_ADMISSION, "ValidatingWebhookConfiguration"): _WEBHOOKS,
    (_ADMISSION, "ValidatingAdmissionPolicy"): Printer(
        (
            NAME,
            Column(
                "Validations",
                "integer",
                "Validations indicates the number of validation rules defined in this "
                "configuration",
            ),
            Column(
                "ParamKind",
                "string",
                "ParamKind specifies the kind of resources used to parameterize this policy",
            ),
            AGE,
        ),
        _admission_policy,
    ),
    (_ADMISSION, "ValidatingAdmissionPolicyBinding"): Printer(
        (
            NAME,
            Column(
                "PolicyName",
                "string",
                "PolicyName indicates the policy definition which the policy binding binded to",
            ),
            Column(
                "ParamRef",
                "string",
                "ParamRef indicates the param resource which sets the configration param",
            ),
            AGE,
        ),
        _admission_policy_binding,
    ),
}
