"""The Jobs of a CronJob: what to create at a scheduled time, how `status.active`
refers to them, and which finished ones the history limits drop. Pure functions.

- `job_from_template`: Job `NAME-<scheduled minutes since the epoch>` (deterministic,
  so one start time can never create two Jobs), the job template's labels,
  annotations and spec, a controlling ownerReference, and the
  `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation: the scheduled time in
  RFC 3339, in `spec.timeZone` (UTC if unset).
- `active_reference`: the ObjectReference kept in `status.active`.
- `select_old_jobs`: finished Jobs beyond `successfulJobsHistoryLimit` (Complete) and
  `failedJobsHistoryLimit` (Failed), oldest start time first (Jobs that never started
  last, ties by name); none when a limit is unset.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from ..job.util import COMPLETE, FAILED, has_condition
from ..replicaset.pods import owner_reference
from .schedule import load_zone

Obj = dict[str, Any]

SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def job_name(cron_job: Obj, scheduled: datetime) -> str:
    return f"{cron_job['metadata']['name']}-{int(scheduled.timestamp()) // 60}"


def rfc3339(moment: datetime) -> str:
    """Go's `time.RFC3339` rendering: seconds precision, `Z` for UTC."""
    text = moment.replace(microsecond=0).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def job_from_template(cron_job: Obj, scheduled: datetime) -> Obj:
    """The Job to start at `scheduled` (see module docstring). ScheduleError for an
    unknown `spec.timeZone`."""
    spec = cron_job.get("spec") or {}
    template = spec.get("jobTemplate") or {}
    meta = template.get("metadata") or {}
    zone = load_zone(spec["timeZone"]) if spec.get("timeZone") else UTC
    annotations = {
        **(meta.get("annotations") or {}),
        SCHEDULED_TIMESTAMP: rfc3339(scheduled.astimezone(zone)),
    }
    job_meta: Obj = {
        "name": job_name(cron_job, scheduled),
        "namespace": cron_job["metadata"]["namespace"],
        "annotations": annotations,
        "ownerReferences": [owner_reference(cron_job)],
    }
    if meta.get("labels"):
        job_meta["labels"] = dict(meta["labels"])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": job_meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def active_reference(job: Obj) -> Obj:
    meta = job["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
        "resourceVersion": meta.get("resourceVersion", ""),
    }


def remove_from_active(status: Obj, uid: str) -> None:
    """Drops the Job `uid` from `status["active"]` (in place); absent is fine."""
    active = [ref for ref in status.get("active") or [] if ref.get("uid") != uid]
    if active:
        status["active"] = active
    else:
        status.pop("active", None)


def _start_order(job: Obj) -> tuple[bool, str, str]:
    start = (job.get("status") or {}).get("startTime")
    return (start is None, start or "", job["metadata"]["name"])


def select_old_jobs(cron_job: Obj, jobs: list[Obj]) -> list[Obj]:
    """The finished Jobs to delete (see module docstring)."""
    spec = cron_job.get("spec") or {}
    old: list[Obj] = []
    for kind, field in (
        (COMPLETE, "successfulJobsHistoryLimit"),
        (FAILED, "failedJobsHistoryLimit"),
    ):
        limit = spec.get(field)
        if limit is None:
            continue
        finished = sorted((j for j in jobs if has_condition(j, kind)), key=_start_order)
        old.extend(finished[: max(len(finished) - int(limit), 0)])
    return old
