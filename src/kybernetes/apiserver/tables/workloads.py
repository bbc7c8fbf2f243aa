"""Workload controllers and autoscaling, as kube-apiserver 1.32 prints them.

Deployments, ReplicaSets, StatefulSets, DaemonSets and ControllerRevisions (apps),
Jobs and CronJobs (batch), ReplicationControllers (core), HorizontalPodAutoscalers and
Scales (autoscaling). Replica counts the defaulting always sets read as 1 when absent;
a Job's STATUS is the first of Complete, Failed, Terminating, Suspended, FailureTarget
that applies, else Running; its DURATION runs from `startTime` to `completionTime`
(or now). HPA TARGETS follow `formatHPAMetrics` on the autoscaling/v2 shape; an
autoscaling/v1 object's CPU utilization fields are read as the one Resource metric
its conversion produces.
"""

from __future__ import annotations

from typing import Any

from .cells import (
    AGE,
    CONTAINERS,
    IMAGES,
    NAME,
    OBJECT_META,
    Column,
    Doc,
    Obj,
    PrintContext,
    Printer,
    bool_ptr,
    created,
    deleting,
    dig,
    format_label_selector,
    format_labels,
    integer,
    items,
    mapping,
    name_of,
    quantity,
    selector_string,
    template_containers,
    text,
)
from .duration import age, human_duration, parse_time

_READY_PODS = "Number of the pod with ready state"


def _selector_column(definition: str) -> Column:
    return Column("Selector", "string", Doc(definition, "selector"), priority=1)


def _wide_template(obj: Obj, ctx: PrintContext, *path: str, selector: str | None) -> list[Any]:
    """CONTAINERS, IMAGES (and SELECTOR when given) of `-o wide`."""
    if not ctx.wide:
        return []
    names, images = template_containers(obj, *path)
    return [names, images] if selector is None else [names, images, selector]


def _replication_controller(rc: Obj, ctx: PrintContext) -> list[Any]:
    cells = [
        name_of(rc),
        integer(rc, "spec", "replicas", default=1),
        integer(rc, "status", "replicas"),
        integer(rc, "status", "readyReplicas"),
        age(created(rc), ctx.now),
    ]
    selector = format_labels(dig(rc, "spec", "selector"))
    return cells + _wide_template(rc, ctx, "spec", "template", selector=selector)


def _replica_set(rs: Obj, ctx: PrintContext) -> list[Any]:
    cells = [
        name_of(rs),
        integer(rs, "spec", "replicas", default=1),
        integer(rs, "status", "replicas"),
        integer(rs, "status", "readyReplicas"),
        age(created(rs), ctx.now),
    ]
    selector = format_label_selector(dig(rs, "spec", "selector"))
    return cells + _wide_template(rs, ctx, "spec", "template", selector=selector)


def _deployment(deployment: Obj, ctx: PrintContext) -> list[Any]:
    ready = integer(deployment, "status", "readyReplicas")
    cells = [
        name_of(deployment),
        f"{ready}/{integer(deployment, 'spec', 'replicas', default=1)}",
        integer(deployment, "status", "updatedReplicas"),
        integer(deployment, "status", "availableReplicas"),
        age(created(deployment), ctx.now),
    ]
    selector = selector_string(dig(deployment, "spec", "selector"))
    return cells + _wide_template(deployment, ctx, "spec", "template", selector=selector)


def _stateful_set(sts: Obj, ctx: PrintContext) -> list[Any]:
    ready = integer(sts, "status", "readyReplicas")
    cells = [
        name_of(sts),
        f"{ready}/{integer(sts, 'spec', 'replicas', default=1)}",
        age(created(sts), ctx.now),
    ]
    return cells + _wide_template(sts, ctx, "spec", "template", selector=None)


def _daemon_set(ds: Obj, ctx: PrintContext) -> list[Any]:
    status = mapping(ds, "status")
    cells = [
        name_of(ds),
        integer(status, "desiredNumberScheduled"),
        integer(status, "currentNumberScheduled"),
        integer(status, "numberReady"),
        integer(status, "updatedNumberScheduled"),
        integer(status, "numberAvailable"),
        format_labels(dig(ds, "spec", "template", "spec", "nodeSelector")),
        age(created(ds), ctx.now),
    ]
    selector = format_label_selector(dig(ds, "spec", "selector"))
    return cells + _wide_template(ds, ctx, "spec", "template", selector=selector)


def _controller_name(obj: Obj) -> str:
    """`kind.group/name` (lower-cased kind.group) of the controlling owner, or <none>."""
    for owner in items(obj, "metadata", "ownerReferences"):
        if dig(owner, "controller") is True:
            api_version = text(owner, "apiVersion")
            group = api_version.rpartition("/")[0] if "/" in api_version else ""
            kind = text(owner, "kind")
            group_kind = f"{kind}.{group}" if group else kind
            return (
                f"{group_kind.lower()}/{text(owner, 'name')}" if group_kind else text(owner, "name")
            )
    return "<none>"


def _controller_revision(revision: Obj, ctx: PrintContext) -> list[Any]:
    return [
        name_of(revision),
        _controller_name(revision),
        integer(revision, "revision"),
        age(created(revision), ctx.now),
    ]


def _job_condition(job: Obj, condition_type: str) -> bool:
    for condition in items(job, "status", "conditions"):
        if dig(condition, "type") == condition_type:
            return bool(dig(condition, "status") == "True")
    return False


def _job_status(job: Obj) -> str:
    if _job_condition(job, "Complete"):
        return "Complete"
    if _job_condition(job, "Failed"):
        return "Failed"
    if deleting(job):
        return "Terminating"
    if _job_condition(job, "Suspended"):
        return "Suspended"
    if _job_condition(job, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def _job(job: Obj, ctx: PrintContext) -> list[Any]:
    succeeded = integer(job, "status", "succeeded")
    completions = dig(job, "spec", "completions")
    if isinstance(completions, int):
        shown = f"{succeeded}/{completions}"
    elif (parallelism := integer(job, "spec", "parallelism")) > 1:
        shown = f"{succeeded}/1 of {parallelism}"
    else:
        shown = f"{succeeded}/1"
    start = parse_time(dig(job, "status", "startTime"))
    end = parse_time(dig(job, "status", "completionTime")) or ctx.now
    duration = "" if start is None else human_duration(end - start)
    cells = [name_of(job), _job_status(job), shown, duration, age(created(job), ctx.now)]
    selector = format_label_selector(dig(job, "spec", "selector"))
    return cells + _wide_template(job, ctx, "spec", "template", selector=selector)


def _cron_job(cron_job: Obj, ctx: PrintContext) -> list[Any]:
    last_schedule = dig(cron_job, "status", "lastScheduleTime")
    time_zone = dig(cron_job, "spec", "timeZone")
    cells = [
        name_of(cron_job),
        text(cron_job, "spec", "schedule"),
        time_zone if isinstance(time_zone, str) else "<none>",
        bool_ptr(dig(cron_job, "spec", "suspend")),
        len(items(cron_job, "status", "active")),
        "<none>" if last_schedule is None else age(last_schedule, ctx.now),
        age(created(cron_job), ctx.now),
    ]
    job_spec = ("spec", "jobTemplate", "spec")
    selector = format_label_selector(dig(cron_job, *job_spec, "selector"))
    return cells + _wide_template(cron_job, ctx, *job_spec, "template", selector=selector)


def _cpu_metric(fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": "cpu", **fields}}


def _v1_cpu_metrics(hpa: Obj) -> tuple[list[Any], list[Any]]:
    """The (spec, status) metrics autoscaling/v1's CPU fields convert to."""
    target = dig(hpa, "spec", "targetCPUUtilizationPercentage")
    current = dig(hpa, "status", "currentCPUUtilizationPercentage")
    utilization = {"type": "Utilization", "averageUtilization": target}
    specs = [] if target is None else [_cpu_metric({"target": utilization})]
    statuses = []
    if current is not None:
        statuses = [_cpu_metric({"current": {"averageUtilization": current}})]
    return specs, statuses


def _q(value: object) -> str:
    """`(*Quantity).String()`: a nil quantity prints `<nil>`."""
    return "<nil>" if value is None else quantity(value)


def _metric(spec: Obj, status: Obj | None) -> str:
    kind = text(spec, "type")
    source_key = {
        "External": "external",
        "Pods": "pods",
        "Object": "object",
        "Resource": "resource",
        "ContainerResource": "containerResource",
    }.get(kind)
    if source_key is None:
        return "<unknown type>"
    target = mapping(spec, source_key, "target")
    source = dig(status, source_key) if status is not None else None
    current = mapping(source, "current")
    if kind == "Pods":
        shown = _q(current.get("averageValue")) if source is not None else "<unknown>"
        return f"{shown}/{_q(target.get('averageValue'))}"
    if kind in ("External", "Object"):
        if target.get("averageValue") is not None:
            avg = current.get("averageValue")
            shown = _q(avg) if source is not None and avg is not None else "<unknown>"
            return f"{shown}/{_q(target['averageValue'])} (avg)"
        shown = _q(current.get("value")) if source is not None else "<unknown>"
        return f"{shown}/{_q(target.get('value'))}"
    name = text(spec, source_key, "name")
    if target.get("averageValue") is not None:
        shown = _q(current.get("averageValue")) if source is not None else "<unknown>"
        return f"{name}: {shown}/{_q(target['averageValue'])}"
    utilization = current.get("averageUtilization")
    shown = f"{utilization}%" if source is not None and utilization is not None else "<unknown>"
    wanted = target.get("averageUtilization")
    return f"{name}: {shown}/{'<auto>' if wanted is None else f'{wanted}%'}"


def _hpa_targets(hpa: Obj) -> str:
    specs, statuses = items(hpa, "spec", "metrics"), items(hpa, "status", "currentMetrics")
    if "targetCPUUtilizationPercentage" in mapping(hpa, "spec"):
        specs, statuses = _v1_cpu_metrics(hpa)
    if not specs:
        return "<none>"
    shown = [_metric(s, statuses[i] if i < len(statuses) else None) for i, s in enumerate(specs)]
    if len(shown) > 2:
        return f"{', '.join(shown[:2])} + {len(shown) - 2} more..."
    return ", ".join(shown)


def _hpa(hpa: Obj, ctx: PrintContext) -> list[Any]:
    target = mapping(hpa, "spec", "scaleTargetRef")
    min_replicas = dig(hpa, "spec", "minReplicas")
    return [
        name_of(hpa),
        f"{text(target, 'kind')}/{text(target, 'name')}",
        _hpa_targets(hpa),
        "<unset>" if min_replicas is None else str(min_replicas),
        integer(hpa, "spec", "maxReplicas"),
        integer(hpa, "status", "currentReplicas"),
        age(created(hpa), ctx.now),
    ]


def _scale(scale: Obj, ctx: PrintContext) -> list[Any]:
    return [
        name_of(scale),
        integer(scale, "spec", "replicas"),
        integer(scale, "status", "replicas"),
        age(created(scale), ctx.now),
    ]


_HPA_SPEC = "autoscaling.v2.HorizontalPodAutoscalerSpec"

PRINTERS = {
    ("", "ReplicationController"): Printer(
        (
            NAME,
            Column("Desired", "integer", Doc("core.v1.ReplicationControllerSpec", "replicas")),
            Column("Current", "integer", Doc("core.v1.ReplicationControllerStatus", "replicas")),
            Column("Ready", "integer", Doc("core.v1.ReplicationControllerStatus", "readyReplicas")),
            AGE,
            CONTAINERS,
            IMAGES,
            _selector_column("core.v1.ReplicationControllerSpec"),
        ),
        _replication_controller,
    ),
    ("apps", "ReplicaSet"): Printer(
        (
            NAME,
            Column("Desired", "integer", Doc("apps.v1.ReplicaSetSpec", "replicas")),
            Column("Current", "integer", Doc("apps.v1.ReplicaSetStatus", "replicas")),
            Column("Ready", "integer", Doc("apps.v1.ReplicaSetStatus", "readyReplicas")),
            AGE,
            CONTAINERS,
            IMAGES,
            _selector_column("apps.v1.ReplicaSetSpec"),
        ),
        _replica_set,
    ),
    ("apps", "Deployment"): Printer(
        (
            NAME,
            Column("Ready", "string", _READY_PODS),
            Column("Up-to-date", "string", Doc("apps.v1.DeploymentStatus", "updatedReplicas")),
            Column("Available", "string", Doc("apps.v1.DeploymentStatus", "availableReplicas")),
            AGE,
            CONTAINERS,
            IMAGES,
            _selector_column("apps.v1.DeploymentSpec"),
        ),
        _deployment,
    ),
    ("apps", "StatefulSet"): Printer(
        (NAME, Column("Ready", "string", _READY_PODS), AGE, CONTAINERS, IMAGES),
        _stateful_set,
    ),
    ("apps", "DaemonSet"): Printer(
        (
            NAME,
            Column("Desired", "integer", Doc("apps.v1.DaemonSetStatus", "desiredNumberScheduled")),
            Column("Current", "integer", Doc("apps.v1.DaemonSetStatus", "currentNumberScheduled")),
            Column("Ready", "integer", Doc("apps.v1.DaemonSetStatus", "numberReady")),
            Column(
                "Up-to-date", "integer", Doc("apps.v1.DaemonSetStatus", "updatedNumberScheduled")
            ),
            Column("Available", "integer", Doc("apps.v1.DaemonSetStatus", "numberAvailable")),
            Column("Node Selector", "string", Doc("core.v1.PodSpec", "nodeSelector")),
            AGE,
            CONTAINERS,
            IMAGES,
            _selector_column("apps.v1.DaemonSetSpec"),
        ),
        _daemon_set,
    ),
    ("apps", "ControllerRevision"): Printer(
        (
            NAME,
            Column("Controller", "string", "Controller of the object"),
            Column("Revision", "string", Doc("apps.v1.ControllerRevision", "revision")),
            AGE,
        ),
        _controller_revision,
    ),
    ("batch", "Job"): Printer(
        (
            NAME,
            Column("Status", "string", "Status of the job."),
            Column("Completions", "string", Doc("batch.v1.JobStatus", "succeeded")),
            Column("Duration", "string", "Time required to complete the job."),
            AGE,
            CONTAINERS,
            IMAGES,
            _selector_column("batch.v1.JobSpec"),
        ),
        _job,
    ),
    ("batch", "CronJob"): Printer(
        (
            NAME,
            Column("Schedule", "string", Doc("batch.v1.CronJobSpec", "schedule")),
            Column("Timezone", "string", Doc("batch.v1.CronJobSpec", "timeZone")),
            Column("Suspend", "boolean", Doc("batch.v1.CronJobSpec", "suspend")),
            Column("Active", "integer", Doc("batch.v1.CronJobStatus", "active")),
            Column("Last Schedule", "string", Doc("batch.v1.CronJobStatus", "lastScheduleTime")),
            AGE,
            CONTAINERS,
            IMAGES,
            _selector_column("batch.v1.JobSpec"),
        ),
        _cron_job,
    ),
    ("autoscaling", "HorizontalPodAutoscaler"): Printer(
        (
            NAME,
            Column("Reference", "string", Doc(_HPA_SPEC, "scaleTargetRef")),
            Column("Targets", "string", Doc(_HPA_SPEC, "metrics")),
            Column("MinPods", "string", Doc(_HPA_SPEC, "minReplicas")),
            Column("MaxPods", "string", Doc(_HPA_SPEC, "maxReplicas")),
            Column(
                "Replicas",
                "string",
                Doc("autoscaling.v2.HorizontalPodAutoscalerStatus", "currentReplicas"),
            ),
            AGE,
        ),
        _hpa,
    ),
    ("autoscaling", "Scale"): Printer(
        (
            Column("Name", "string", Doc(OBJECT_META, "name")),
            Column("Desired", "integer", Doc("autoscaling.v1.ScaleSpec", "replicas")),
            Column("Available", "integer", Doc("autoscaling.v1.ScaleStatus", "replicas")),
            AGE,
        ),
        _scale,
    ),
}
