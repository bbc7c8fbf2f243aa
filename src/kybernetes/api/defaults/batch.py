"""Defaults of the batch/v1 kinds: k8s.io/kubernetes/pkg/apis/batch/v1 in 1.32.

A Job's pod template gets the PodSpec defaults like any other, `restartPolicy:
Always` included: Job validation reports that value (and "") as a missing restart
policy. `podReplacementPolicy` is defaulted as with the JobPodReplacementPolicy gate
(beta, on in 1.32), `backoffLimit` as with JobBackoffLimitPerIndex (beta, on). A
CronJob's job template gets only the pod template defaults, never the Job's own.
The generated selector and labels of a Job come from its REST strategy, not from here.

Invariants: in place, fills only unset fields, idempotent.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.defaults._fields import (
    Defaulter,
    JSONObject,
    child,
    is_zero,
    items,
    path,
    set_if_absent,
    set_if_zero,
    struct,
)
from kybernetes.api.defaults.podspec import default_pod_template

BACKOFF_LIMIT: Final = 6
MAX_INT32: Final = 2**31 - 1


def _job(job: JSONObject) -> None:
    spec = struct(job, "spec")
    if spec is None:
        return
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    set_if_absent(spec, "parallelism", 1)
    if spec.get("backoffLimitPerIndex") is not None:
        set_if_absent(spec, "backoffLimit", MAX_INT32)
    set_if_absent(spec, "backoffLimit", BACKOFF_LIMIT)
    template = struct(spec, "template")
    labels = path(template, "metadata", "labels")
    metadata = struct(job, "metadata") if labels else None
    if labels and metadata is not None and is_zero(metadata.get("labels")):
        metadata["labels"] = dict(labels)
    set_if_absent(spec, "completionMode", "NonIndexed")
    set_if_absent(spec, "suspend", False)
    failure_policy = child(spec, "podFailurePolicy")
    for rule in items(failure_policy, "rules"):
        for pattern in items(rule, "onPodConditions"):
            set_if_zero(pattern, "status", "True")
    replacement = "Failed" if failure_policy is not None else "TerminatingOrFailed"
    set_if_absent(spec, "podReplacementPolicy", replacement)
    set_if_absent(spec, "manualSelector", False)
    default_pod_template(template)


def _cron_job(cron_job: JSONObject) -> None:
    spec = struct(cron_job, "spec")
    if spec is None:
        return
    set_if_zero(spec, "concurrencyPolicy", "Allow")
    set_if_absent(spec, "suspend", False)
    set_if_absent(spec, "successfulJobsHistoryLimit", 3)
    set_if_absent(spec, "failedJobsHistoryLimit", 1)
    job_template = struct(spec, "jobTemplate")
    job_spec = struct(job_template, "spec") if job_template is not None else None
    default_pod_template(struct(job_spec, "template") if job_spec is not None else None)


DEFAULTERS: Final[dict[tuple[str, str, str], Defaulter]] = {
    ("batch", "v1", "Job"): _job,
    ("batch", "v1", "CronJob"): _cron_job,
}
