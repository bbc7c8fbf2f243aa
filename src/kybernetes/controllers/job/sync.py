"""One reconciliation of one Job (Kubernetes 1.32's `syncJob` with finalizer tracking).

`JobSync(ctl, job, pods, satisfied).run()`:

1. Counts: `succeeded` / `failed` = the status counters + `uncountedTerminatedPods` +
   finished pods still carrying the `batch.kubernetes.io/job-tracking` finalizer
   (uids whose finalizer this controller already removed are not recounted).
   Newly finished pods feed the pod-failure back-off record.
2. Decides the terminal outcome: an existing FailureTarget -> Failed; a failed pod
   matching a FailJob `podFailurePolicy` rule -> FailureTarget `PodFailurePolicy`;
   failures over `backoffLimit` -> FailureTarget `BackoffLimitExceeded`;
   `activeDeadlineSeconds` passed -> FailureTarget `DeadlineExceeded` (else a requeue
   at the deadline); an Indexed job's `successPolicy` rule met -> SuccessCriteriaMet
   `SuccessPolicy`; an existing SuccessCriteriaMet -> Complete.
3. With an outcome it deletes the active pods; otherwise (expectations satisfied, not
   being deleted) `manage` creates or deletes pods toward `wanted_active` (suspended:
   deletes them all; pod creation waits out the failure back-off), and all
   completions done with nothing active -> SuccessCriteriaMet `CompletionsReached`.
   Suspended / Resumed conditions and events (resuming resets startTime).
4. Tracking: finished pods' uids go to `uncountedTerminatedPods` (status written
   first), then their finalizers are removed, then they move to the counters (and
   Indexed jobs' `completedIndexes`). The interim FailureTarget / SuccessCriteriaMet
   condition is written before finalizers go; the final Failed / Complete (with
   `completionTime`) once nothing is uncounted and no pod is terminating.
5. Writes the status when it changed.

Every write is compare-and-swap on the Job's resourceVersion; a failure raises, and
the key is retried with backoff.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kybernetes.client import APIError, is_not_found, object_key
from kybernetes.client.events import event_time
from kybernetes.client.resource import JOBS, PODS

from ..replicaset.pods import is_pod_active, is_pod_ready, parse_time
from .pods import is_indexed, pending_indexes, pods_for_removal, wanted_active
from .util import (
    COMPLETE,
    FAILED,
    FAILURE_TARGET,
    SUCCESS_CRITERIA_MET,
    SUSPENDED,
    TRACKING_FINALIZER,
    BackoffRecord,
    completion_index,
    finish_time,
    format_indexes,
    get_condition,
    has_finalizer,
    is_pod_failed,
    match_failure_policy,
    new_condition,
    parse_indexes,
    phase,
    set_condition,
)
from .writes import create_pods, delete_pods

if TYPE_CHECKING:
    from .controller import JobController

Obj = dict[str, Any]

MAX_POD_CREATE_DELETE_PER_SYNC = 500
FINALIZER_PATCH: Obj = {"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}}
"""A strategic-merge patch that removes only the tracking finalizer (idempotent)."""


class JobSync:
    """The state of one sync (see module docstring)."""

    def __init__(self, ctl: JobController, job: Obj, pods: list[Obj], satisfied: bool) -> None:
        self.ctl = ctl
        self.job = job
        self.key = object_key(job)
        self.spec: Obj = job.get("spec") or {}
        self.now = ctl.clock.wall()
        self.status: Obj = copy.deepcopy(job.get("status") or {})
        self.pods = pods
        self.satisfied = satisfied
        self.removed = ctl.removed_finalizers.setdefault(self.key, set())
        uncounted = self.status.get("uncountedTerminatedPods") or {}
        self.uncounted_succeeded: list[str] = list(uncounted.get("succeeded") or [])
        self.uncounted_failed: list[str] = list(uncounted.get("failed") or [])
        self.active = [p for p in pods if is_pod_active(p)]
        self.terminating = sum(
            1
            for p in pods
            if p["metadata"].get("deletionTimestamp") and phase(p) not in ("Succeeded", "Failed")
        )
        self.ready = sum(1 for p in self.active if is_pod_ready(p))
        self.completions = self.spec.get("completions")
        self.record = BackoffRecord()
        self.succeeded_indexes: set[int] = set()
        self.indexes: set[int] = (
            parse_indexes(self.status.get("completedIndexes"), int(self.completions or 0))
            if is_indexed(job)
            else set()
        )

    # --- accounting -------------------------------------------------------------------

    def _tracked(self, pod: Obj) -> bool:
        return has_finalizer(pod) and pod["metadata"]["uid"] not in self.removed

    def _valid_index(self, pod: Obj) -> bool:
        if not is_indexed(self.job):
            return True
        index = completion_index(pod)
        return index is not None and index < int(self.completions or 0)

    def _counts(self) -> tuple[int, int]:
        counted_s, counted_f = set(self.uncounted_succeeded), set(self.uncounted_failed)
        new_s: list[datetime] = []
        new_f: list[datetime] = []
        succeeded_indexes = self.succeeded_indexes = set(self.indexes)
        for pod in self.pods:
            uid = pod["metadata"]["uid"]
            if phase(pod) == "Succeeded" and self._valid_index(pod):
                index = completion_index(pod)
                if index is not None and is_indexed(self.job):
                    succeeded_indexes.add(index)
            if not self._tracked(pod):
                continue
            if phase(pod) == "Succeeded" and uid not in counted_s and uid not in counted_f:
                new_s.append(finish_time(pod, self.now))
            elif self._counts_failed(pod) and uid not in counted_f:
                new_f.append(finish_time(pod, self.now))
        self.record = self.ctl.backoff.get(self.key, BackoffRecord()).updated(new_s, new_f)
        if is_indexed(self.job):
            succeeded = len(succeeded_indexes)
        else:
            base = int(self.status.get("succeeded") or 0) + len(self.uncounted_succeeded)
            succeeded = base + len(new_s)
        failed = int(self.status.get("failed") or 0) + len(self.uncounted_failed) + len(new_f)
        return succeeded, failed

    def _counts_failed(self, pod: Obj) -> bool:
        """A failure that counts toward backoffLimit (not Ignored by the policy)."""
        if not is_pod_failed(pod, self.job) or not self._valid_index(pod):
            return False
        return match_failure_policy(self.job, pod)[1]

    def _fail_job_message(self) -> str | None:
        """The message of the first failed pod a FailJob rule matches, if any."""
        for pod in self.pods:
            if self._tracked(pod) and is_pod_failed(pod, self.job):
                message = match_failure_policy(self.job, pod)[0]
                if message is not None:
                    return message
        return None

    def _success_policy_rule(self) -> int | None:
        """The index of the first `successPolicy` rule the succeeded indexes satisfy
        (Indexed jobs): all of `succeededIndexes`, or at least `succeededCount` of
        them (of all indexes when `succeededIndexes` is unset)."""
        rules = (self.spec.get("successPolicy") or {}).get("rules") or []
        if not is_indexed(self.job) or get_condition(self.job, SUCCESS_CRITERIA_MET):
            return None
        completions = int(self.completions or 0)
        for index, rule in enumerate(rules):
            text = rule.get("succeededIndexes")
            wanted = parse_indexes(text, completions) if text is not None else None
            have = self.succeeded_indexes if wanted is None else self.succeeded_indexes & wanted
            count = rule.get("succeededCount")
            if count is not None and len(have) >= int(count):
                return index
            if count is None and wanted is not None and have == wanted:
                return index
        return None

    def _deadline_left(self) -> float | None:
        """Seconds until activeDeadlineSeconds passes (<= 0: passed); None if none runs."""
        deadline = self.spec.get("activeDeadlineSeconds")
        start = parse_time(self.status.get("startTime"))
        if deadline is None or start is None or self.spec.get("suspend"):
            return None
        return (start + timedelta(seconds=int(deadline)) - self.now).total_seconds()

    # --- the sync ---------------------------------------------------------------------

    async def run(self) -> None:
        suspended = bool(self.spec.get("suspend"))
        if self.status.get("startTime") is None and not suspended:
            self.status["startTime"] = event_time(self.now)
        succeeded, failed = self._counts()
        outcome: Obj | None = None
        deadline_left = self._deadline_left()
        target = get_condition(self.job, FAILURE_TARGET)
        met = get_condition(self.job, SUCCESS_CRITERIA_MET)
        fail_job = self._fail_job_message()
        if target is not None and target.get("status") == "True":
            outcome = self._condition(FAILED, target["reason"], target["message"])
        elif fail_job is not None:
            outcome = self._condition(FAILURE_TARGET, "PodFailurePolicy", fail_job)
        elif failed > int(self.spec.get("backoffLimit", 6)):
            message = "Job has reached the specified backoff limit"
            outcome = self._condition(FAILURE_TARGET, "BackoffLimitExceeded", message)
        elif deadline_left is not None and deadline_left <= 0:
            message = "Job was active longer than specified deadline"
            outcome = self._condition(FAILURE_TARGET, "DeadlineExceeded", message)
        elif (rule := self._success_policy_rule()) is not None:
            message = f"Matched rules at index {rule}"
            outcome = self._condition(SUCCESS_CRITERIA_MET, "SuccessPolicy", message)
        elif met is not None and met.get("status") == "True":
            outcome = self._condition(SUCCESS_CRITERIA_MET, met["reason"], met["message"])
        elif deadline_left is not None:
            self.ctl.queue.add_after(self.key, deadline_left)
        error: APIError | None = None
        active = len(self.active)
        if outcome is not None:
            deleted, error = await self._delete(self.active)
            if deleted != active or not self.satisfied:
                outcome = None
            active -= deleted
            self.terminating += deleted
        else:
            managed = False
            if self.satisfied and not self.job["metadata"].get("deletionTimestamp"):
                active, error = await self._manage(succeeded)
                managed = True
            done = succeeded > 0 if self.completions is None else succeeded >= self.completions
            if done and active == 0:
                message = "Reached expected number of succeeded pods"
                outcome = self._condition(SUCCESS_CRITERIA_MET, "CompletionsReached", message)
            elif managed:
                self._suspension(suspended)
        self.status["active"] = active
        self.status["ready"] = self.ready
        self.status["terminating"] = self.terminating
        await self._track(outcome)
        # Committed once the newly finished pods are recorded, so a failed status
        # write never counts a failure twice.
        self.ctl.backoff[self.key] = self.record
        if error is not None:
            raise error

    def _condition(self, kind: str, reason: str, message: str) -> Obj:
        return new_condition(kind, "True", reason, message, self.now)

    def _suspension(self, suspended: bool) -> None:
        if suspended:
            cond = new_condition(SUSPENDED, "True", "JobSuspended", "Job suspended", self.now)
            if set_condition(self.status, cond):
                self.ctl.recorder.event(self.job, "Normal", "Suspended", "Job suspended")
        elif get_condition(self.job, SUSPENDED) is not None:
            cond = new_condition(SUSPENDED, "False", "JobResumed", "Job resumed", self.now)
            if set_condition(self.status, cond):
                self.ctl.recorder.event(self.job, "Normal", "Resumed", "Job resumed")
                self.status["startTime"] = event_time(self.now)

    # --- pods -------------------------------------------------------------------------

    async def _manage(self, succeeded: int) -> tuple[int, APIError | None]:
        active = len(self.active)
        if self.spec.get("suspend"):
            deleted, error = await self._delete(self.active)
            return active - deleted, error
        want = wanted_active(self.job, active, succeeded)
        victims = pods_for_removal(self.job, self.active, max(active - want, 0))
        if victims:
            deleted, error = await self._delete(victims[:MAX_POD_CREATE_DELETE_PER_SYNC])
            return active - deleted, error
        held = self.terminating if self.spec.get("podReplacementPolicy") == "Failed" else 0
        diff = min(want - held - active, MAX_POD_CREATE_DELETE_PER_SYNC)
        if diff <= 0:
            return active, None
        wait = self.record.remaining(self.now)
        if wait > 0:
            self.ctl.queue.add_after(self.key, wait)
            return active, None
        indexes: list[int | None] = [None] * diff
        if is_indexed(self.job):
            completions = int(self.completions or 0)
            indexes = list(pending_indexes(completions, self.indexes, self.active, diff))
        created, error = await create_pods(self.ctl, self.job, indexes)
        return active + created, error

    async def _delete(self, pods: list[Obj]) -> tuple[int, APIError | None]:
        """Deletes `pods` (see `writes.delete_pods`), lowering the ready count."""
        deleted, error = await delete_pods(self.ctl, self.job, pods)
        self.ready -= sum(1 for pod in deleted if is_pod_ready(pod))
        return len(deleted), error

    # --- finalizer tracking -----------------------------------------------------------

    async def _track(self, outcome: Obj | None) -> None:
        final: Obj | None = outcome
        flush = False
        if outcome is not None and outcome["type"] == FAILURE_TARGET:
            self.status.setdefault("conditions", []).append(outcome)
            flush = True
            final = self._condition(FAILED, outcome["reason"], outcome["message"])
        elif outcome is not None and outcome["type"] == SUCCESS_CRITERIA_MET:
            if get_condition(self.job, SUCCESS_CRITERIA_MET) is None:
                self.status.setdefault("conditions", []).append(outcome)
                flush = True
            final = self._condition(COMPLETE, outcome["reason"], outcome["message"])
        deleting = bool(self.job["metadata"].get("deletionTimestamp"))
        release: list[Obj] = []
        for pod in self.pods:
            if not self._tracked(pod):
                continue
            uid = pod["metadata"]["uid"]
            considered_failed = is_pod_failed(pod, self.job)
            terminal = phase(pod) in ("Succeeded", "Failed")
            if not (deleting or outcome is not None or terminal or considered_failed):
                continue
            release.append(pod)
            counts = uid not in self.uncounted_failed and self._valid_index(pod)
            if phase(pod) == "Succeeded" and uid not in self.uncounted_failed:
                if uid not in self.uncounted_succeeded and counts:
                    self.uncounted_succeeded.append(uid)
                    flush = True
            elif counts and self._failure_counts(pod, considered_failed, final):
                self.uncounted_failed.append(uid)
                flush = True
        if flush:
            await self._write()
        for pod in release:
            await self._remove_finalizer(pod)
        self._count_released()
        if final is not None and not self._uncounted() and self.terminating == 0:
            set_condition(self.status, final)
            if final["type"] == COMPLETE:
                self.status["completionTime"] = event_time(self.now)
                self.ctl.recorder.event(self.job, "Normal", "Completed", "Job completed")
            else:
                self.ctl.recorder.event(self.job, "Warning", final["reason"], final["message"])
        await self._write()

    async def _remove_finalizer(self, pod: Obj) -> None:
        meta = pod["metadata"]
        try:
            await self.ctl.client.patch(
                PODS,
                meta["name"],
                FINALIZER_PATCH,
                namespace=meta["namespace"],
                patch_type="strategic",
            )
        except APIError as e:
            if not is_not_found(e):
                raise
        self.removed.add(meta["uid"])

    def _failure_counts(self, pod: Obj, considered_failed: bool, final: Obj | None) -> bool:
        """Whether a released pod goes to uncounted failed: it failed (and the pod
        failure policy does not ignore it), or the job failed while it ran."""
        if considered_failed:
            return match_failure_policy(self.job, pod)[1]
        return final is not None and final["type"] == FAILED

    def _count_released(self) -> None:
        """Moves uncounted uids whose pods no longer hold the finalizer to the counters."""
        holding = {p["metadata"]["uid"] for p in self.pods if self._tracked(p)}
        by_uid = {p["metadata"]["uid"]: p for p in self.pods}
        succeeded = [u for u in self.uncounted_succeeded if u not in holding]
        failed = [u for u in self.uncounted_failed if u not in holding]
        if is_indexed(self.job):
            for uid in succeeded:
                index = completion_index(by_uid[uid]) if uid in by_uid else None
                if index is not None:
                    self.indexes.add(index)
            self.status["completedIndexes"] = format_indexes(self.indexes)
            self.status["succeeded"] = len(self.indexes)
        else:
            self.status["succeeded"] = int(self.status.get("succeeded") or 0) + len(succeeded)
        self.status["failed"] = int(self.status.get("failed") or 0) + len(failed)
        self.uncounted_succeeded = [u for u in self.uncounted_succeeded if u in holding]
        self.uncounted_failed = [u for u in self.uncounted_failed if u in holding]

    def _uncounted(self) -> bool:
        return bool(self.uncounted_succeeded or self.uncounted_failed)

    async def _write(self) -> None:
        self.status["uncountedTerminatedPods"] = {
            k: v
            for k, v in (("succeeded", self.uncounted_succeeded), ("failed", self.uncounted_failed))
            if v
        }
        if is_indexed(self.job) and "completedIndexes" not in self.status:
            self.status["completedIndexes"] = format_indexes(self.indexes)
        if self.status == (self.job.get("status") or {}):
            return
        self.status.setdefault("succeeded", 0)
        self.status.setdefault("failed", 0)
        updated = await self.ctl.client.update_status(JOBS, {**self.job, "status": self.status})
        self.job = updated
        self.status = copy.deepcopy(updated.get("status") or self.status)
