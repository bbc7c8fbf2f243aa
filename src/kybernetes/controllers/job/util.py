"""Pure helpers of the Job controller (Kubernetes' `pkg/controller/job` utilities, 1.32).

- Conditions: `is_finished` (a Complete or Failed condition with status True, the
  test `kubectl wait --for=condition=complete` and the CronJob controller rely on),
  `finished_time`, `set_condition` (replace-or-append; lastTransitionTime moves only
  when the status changes).
- Pods: `is_pod_failed` (phase Failed, or - unless `podReplacementPolicy: Failed` -
  being deleted without having succeeded: orphans that never reach Failed count as
  failures, as in Kubernetes), `finish_time` (the latest container termination,
  else the pod's Ready condition transition, else `now`).
- `match_failure_policy(job, pod)`: the first `podFailurePolicy` rule a failed pod
  matches (`onExitCodes`: a terminated container, optionally by name, with a
  non-zero exit code In/NotIn the values; `onPodConditions`: a condition with that
  type and status) -> (FailJob message or None, whether the failure counts toward
  `backoffLimit`): FailJob and Count count, Ignore does not; FailIndex (needs
  backoffLimitPerIndex, not supported here) counts like Count.
- Indexed jobs: `completion_index` reads the `batch.kubernetes.io/job-completion-index`
  annotation; `parse_indexes` / `format_indexes` convert `status.completedIndexes`
  ("1,3-5") to and from a sorted set.
- `BackoffRecord`: consecutive pod failures since the last success and when the last
  one happened; `remaining` is 10 s doubling per further failure, capped at 6 minutes
  (the documented Job pod-failure back-off), minus the time already elapsed.

Functions never mutate their arguments unless they say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kybernetes.client.events import event_time

from ..replicaset.pods import parse_time

Obj = dict[str, Any]

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"

COMPLETE = "Complete"
FAILED = "Failed"
SUSPENDED = "Suspended"
FAILURE_TARGET = "FailureTarget"
SUCCESS_CRITERIA_MET = "SuccessCriteriaMet"

POD_FAILURE_BACKOFF = 10.0
MAX_POD_FAILURE_BACKOFF = 360.0


# --- conditions -----------------------------------------------------------------------


def get_condition(job: Obj, kind: str) -> Obj | None:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return dict(condition)
    return None


def has_condition(job: Obj, kind: str) -> bool:
    condition = get_condition(job, kind)
    return condition is not None and condition.get("status") == "True"


def is_finished(job: Obj) -> bool:
    """Whether the Job is Complete or Failed (a True condition of either type)."""
    return has_condition(job, COMPLETE) or has_condition(job, FAILED)


def finished_time(job: Obj) -> datetime | None:
    """When the Job finished: the lastTransitionTime of its True Complete/Failed condition."""
    for kind in (COMPLETE, FAILED):
        condition = get_condition(job, kind)
        if condition is not None and condition.get("status") == "True":
            return parse_time(condition.get("lastTransitionTime"))
    return None


def new_condition(kind: str, status: str, reason: str, message: str, now: datetime) -> Obj:
    stamp = event_time(now)
    return {
        "type": kind,
        "status": status,
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def set_condition(status: Obj, condition: Obj) -> bool:
    """Puts `condition` into `status["conditions"]` (in place): replaces one of the same
    type, keeping its lastTransitionTime if the status is unchanged. Answers whether
    anything changed."""
    conditions = status.setdefault("conditions", [])
    for i, old in enumerate(conditions):
        if old.get("type") != condition["type"]:
            continue
        same = all(old.get(f) == condition[f] for f in ("status", "reason", "message"))
        if same:
            return False
        if old.get("status") == condition["status"]:
            condition = {**condition, "lastTransitionTime": old.get("lastTransitionTime")}
        conditions[i] = condition
        return True
    conditions.append(condition)
    return True


# --- pods -----------------------------------------------------------------------------


def phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def has_finalizer(pod: Obj) -> bool:
    return TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or [])


def is_pod_failed(pod: Obj, job: Obj) -> bool:
    """Failed for the Job's accounting (see module docstring; with a pod failure
    policy only the Failed phase counts)."""
    if phase(pod) == "Failed":
        return True
    spec = job.get("spec") or {}
    if spec.get("podReplacementPolicy") == "Failed" or spec.get("podFailurePolicy"):
        return False
    return bool(pod["metadata"].get("deletionTimestamp")) and phase(pod) != "Succeeded"


def _exit_code_match(pod: Obj, requirement: Obj) -> tuple[str, int] | None:
    status = pod.get("status") or {}
    statuses = [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]
    values = {int(v) for v in requirement.get("values") or []}
    wanted = requirement.get("containerName")
    for container in statuses:
        if wanted is not None and container.get("name") != wanted:
            continue
        terminated = (container.get("state") or {}).get("terminated") or {}
        code = int(terminated.get("exitCode") or 0)
        if not terminated or code == 0:
            continue
        if (code in values) == (requirement.get("operator") == "In"):
            return str(container.get("name")), code
    return None


def _condition_match(pod: Obj, patterns: list[Obj]) -> str | None:
    conditions = (pod.get("status") or {}).get("conditions") or []
    for pattern in patterns:
        for condition in conditions:
            same_type = condition.get("type") == pattern.get("type")
            if same_type and condition.get("status") == (pattern.get("status") or "True"):
                return str(condition.get("type"))
    return None


def match_failure_policy(job: Obj, pod: Obj) -> tuple[str | None, bool]:
    """(FailJob message, counts toward backoffLimit); see module docstring."""
    policy = (job.get("spec") or {}).get("podFailurePolicy")
    if not policy:
        return None, True
    meta = pod["metadata"]
    where = f"{meta.get('namespace')}/{meta.get('name')}"
    for index, rule in enumerate(policy.get("rules") or []):
        action = rule.get("action")
        if rule.get("onExitCodes") is not None:
            hit = _exit_code_match(pod, rule["onExitCodes"])
            if hit is None:
                continue
            message = (
                f"Container {hit[0]} for pod {where} failed with exit code {hit[1]} "
                f"matching {action} rule at index {index}"
            )
        elif rule.get("onPodConditions") is not None:
            kind = _condition_match(pod, rule["onPodConditions"])
            if kind is None:
                continue
            message = f"Pod {where} has condition {kind} matching {action} rule at index {index}"
        else:
            continue
        if action == "Ignore":
            return None, False
        return (message if action == "FailJob" else None), True
    return None, True


def finish_time(pod: Obj, now: datetime) -> datetime:
    """When the pod finished (see module docstring)."""
    latest: datetime | None = None
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated") or {}
        at = parse_time(terminated.get("finishedAt"))
        if at is not None and (latest is None or at > latest):
            latest = at
    if latest is not None:
        return latest
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            at = parse_time(condition.get("lastTransitionTime"))
            if at is not None:
                return at
    return now


# --- indexed jobs ---------------------------------------------------------------------


def completion_index(pod: Obj) -> int | None:
    """The pod's completion index, or None if absent or malformed."""
    text = (pod["metadata"].get("annotations") or {}).get(COMPLETION_INDEX)
    if text is None or not text.isdigit():
        return None
    return int(text)


def parse_indexes(text: str | None, completions: int) -> set[int]:
    """The indexes of "1,3-5" below `completions` (malformed parts are skipped)."""
    indexes: set[int] = set()
    for part in (text or "").split(","):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            continue
        stop = int(high) if high else int(low)
        indexes.update(i for i in range(int(low), stop + 1) if i < completions)
    return indexes


def format_indexes(indexes: set[int]) -> str:
    """Sorted indexes as intervals: {1, 3, 4, 5} -> "1,3-5"."""
    parts: list[str] = []
    ordered = sorted(indexes)
    start = 0
    for i in range(1, len(ordered) + 1):
        if i == len(ordered) or ordered[i] != ordered[i - 1] + 1:
            low, high = ordered[start], ordered[i - 1]
            parts.append(str(low) if low == high else f"{low}-{high}")
            start = i
    return ",".join(parts)


# --- pod failure back-off -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackoffRecord:
    """Failures since the last success (see module docstring)."""

    failures: int = 0
    last_failure: datetime | None = None

    def updated(self, succeeded: list[datetime], failed: list[datetime]) -> BackoffRecord:
        """The record after observing newly finished pods (their finish times)."""
        if not succeeded:
            if not failed:
                return self
            return BackoffRecord(self.failures + len(failed), max(failed))
        last_success = max(succeeded)
        later = sorted(t for t in failed if t > last_success)
        return BackoffRecord(len(later), later[-1] if later else None)

    def remaining(self, now: datetime) -> float:
        """Seconds to wait before creating a replacement pod (0: none)."""
        if self.failures == 0 or self.last_failure is None:
            return 0.0
        delay = POD_FAILURE_BACKOFF
        for _ in range(1, self.failures):
            delay = min(delay * 2, MAX_POD_FAILURE_BACKOFF)
        elapsed = (now - self.last_failure).total_seconds()
        return max(delay - elapsed, 0.0)
