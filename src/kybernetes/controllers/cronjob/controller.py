"""`CronJobController`: creates Jobs on a schedule, as Kubernetes' CronJob controller
(`pkg/controller/cronjob`, controller v2) does.

Handlers only enqueue CronJob keys: their own events and those of the Jobs they
control. `sync(key)` re-reads the CronJob and its Jobs (controlled by its uid) and:

1. Reconciles `status.active`: a finished Job leaves it (`SawCompletedJob`), an
   unfinished controlled Job missing from it is reported (`UnexpectedJob`), and an
   entry whose Job is gone (checked by a live read) is dropped (`MissingJob`);
   `lastSuccessfulTime` follows the latest Complete Job's completionTime.
2. Deletes finished Jobs beyond `successfulJobsHistoryLimit` /
   `failedJobsHistoryLimit`, oldest start first (`SuccessfulDelete`).
3. Stops if being deleted, suspended, or the schedule / time zone is invalid
   (`UnparseableSchedule`, `UnknownTimeZone` warnings).
4. Finds the most recent unmet start time since `lastScheduleTime` (or creation),
   not older than `startingDeadlineSeconds`; more than 100 missed starts warns
   `TooManyMissedTimes` (and still starts the latest). Then, unless it is past its
   deadline (`MissSchedule`), already started, or forbidden by
   `concurrencyPolicy: Forbid` with Jobs active (`JobAlreadyActive`), it deletes the
   active Jobs under `Replace` and creates Job `NAME-<scheduled minutes since the
   epoch>` with the `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation
   (`SuccessfulCreate`), recording it in `active` and `lastScheduleTime`.
5. Writes the status if it changed, and requeues the key 100 ms after the next
   start time on the injected clock.
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from kybernetes.client import (
    BY_NAMESPACE,
    APIClient,
    APIError,
    Clock,
    EventRecorder,
    SharedInformerFactory,
    WorkQueue,
    is_already_exists,
    is_not_found,
    object_key,
    split_key,
)
from kybernetes.client.events import event_time
from kybernetes.client.resource import CRONJOBS, JOBS

from ..base import Workers, enqueue_keys, enqueue_related, run_queues
from ..job.util import COMPLETE, has_condition, is_finished
from ..replicaset.pods import controller_ref, parse_time
from .jobs import active_reference, job_from_template, remove_from_active, select_old_jobs
from .schedule import TOO_MANY_MISSED, Schedule, ScheduleError, parse

log = logging.getLogger(__name__)

Obj = dict[str, Any]

NEXT_SCHEDULE_DELTA = 0.1
"""Seconds after the next start time at which the CronJob is synced again."""


class CronJobController:
    """See the module docstring. `run()` waits for the caches, then runs `workers`
    sync workers until cancelled."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        recorder: EventRecorder,
        *,
        clock: Clock,
        workers: int = 5,
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.clock = clock
        self.workers = workers
        self.cron_jobs = factory.informer(CRONJOBS)
        self.jobs = factory.informer(JOBS)
        self.queue: WorkQueue[str] = WorkQueue(clock=clock)
        enqueue_keys(self.cron_jobs, self.queue)
        enqueue_related(self.jobs, self.queue, self._owner_keys)

    async def run(self) -> None:
        await run_queues([self.cron_jobs, self.jobs], Workers(self.queue, self.sync, self.workers))

    @staticmethod
    def _owner_keys(job: Obj) -> list[str]:
        """The key of the CronJob a Job's controlling ownerReference names, if any."""
        ref = controller_ref(job)
        if ref is None or ref.get("kind") != "CronJob":
            return []
        return [f"{job['metadata']['namespace']}/{ref.get('name')}"]

    # --- sync -------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        """Reconciles one CronJob (see module docstring); raises to be retried."""
        cron_job = self.cron_jobs.indexer.get(key)
        if cron_job is None:
            return
        namespace, _ = split_key(key)
        uid = cron_job["metadata"]["uid"]
        jobs = [
            j
            for j in self.jobs.indexer.by_index(BY_NAMESPACE, namespace)
            if (controller_ref(j) or {}).get("uid") == uid
        ]
        status = copy.deepcopy(cron_job.get("status") or {})
        now = self.clock.wall()
        await self._reconcile_active(cron_job, status, jobs)
        await self._cleanup(cron_job, jobs)
        requeue: float | None = None
        if not cron_job["metadata"].get("deletionTimestamp"):
            requeue = await self._schedule(cron_job, status, now)
        if status != (cron_job.get("status") or {}):
            await self.client.update_status(CRONJOBS, {**cron_job, "status": status})
        if requeue is not None:
            self.queue.add_after(key, requeue)

    async def _reconcile_active(self, cron_job: Obj, status: Obj, jobs: list[Obj]) -> None:
        active_uids = {ref.get("uid") for ref in status.get("active") or []}
        for job in jobs:
            name, job_uid = job["metadata"]["name"], job["metadata"]["uid"]
            if job_uid not in active_uids and not is_finished(job):
                message = f"Saw a job that the controller did not create or forgot: {name}"
                self.recorder.event(cron_job, "Warning", "UnexpectedJob", message)
            elif job_uid in active_uids and is_finished(job):
                kind = COMPLETE if has_condition(job, COMPLETE) else "Failed"
                remove_from_active(status, job_uid)
                message = f"Saw completed job: {name}, condition: {kind}"
                self.recorder.event(cron_job, "Normal", "SawCompletedJob", message)
            if has_condition(job, COMPLETE):
                completed = (job.get("status") or {}).get("completionTime")
                last = parse_time(status.get("lastSuccessfulTime"))
                done = parse_time(completed)
                if done is not None and (last is None or done > last):
                    status["lastSuccessfulTime"] = completed
        present = {j["metadata"]["uid"] for j in jobs}
        for ref in list(status.get("active") or []):
            if ref.get("uid") in present:
                continue
            try:
                await self.client.get(JOBS, ref.get("name") or "", ref.get("namespace") or "")
            except APIError as e:
                if not is_not_found(e):
                    raise
                remove_from_active(status, ref.get("uid") or "")
                message = f"Active job went missing: {ref.get('name')}"
                self.recorder.event(cron_job, "Normal", "MissingJob", message)

    async def _cleanup(self, cron_job: Obj, jobs: list[Obj]) -> None:
        for job in select_old_jobs(cron_job, jobs):
            await self._delete_job(cron_job, job)

    async def _delete_job(self, cron_job: Obj, job: Obj) -> None:
        meta = job["metadata"]
        try:
            await self.client.delete(
                JOBS, meta["name"], meta["namespace"], propagation_policy="Background"
            )
        except APIError as e:
            if not is_not_found(e):
                self.recorder.event(cron_job, "Warning", "FailedDelete", f"Deleted job: {e}")
                raise
        self.recorder.event(cron_job, "Normal", "SuccessfulDelete", f"Deleted job {meta['name']}")

    def _parse(self, cron_job: Obj) -> Schedule | None:
        spec = cron_job.get("spec") or {}
        text, zone = str(spec.get("schedule") or ""), spec.get("timeZone")
        if zone is None and ("TZ=" in text):
            message = (
                f"CRON_TZ or TZ used in schedule {text!r} is not officially supported, see "
                "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ "
                "for more details"
            )
            self.recorder.event(cron_job, "Warning", "UnsupportedSchedule", message)
        try:
            return parse(text, zone)
        except ScheduleError as e:
            if zone is not None and "time zone" in str(e):
                message = f"invalid timeZone: {zone!r}: {e}"
                self.recorder.event(cron_job, "Warning", "UnknownTimeZone", message)
            else:
                message = f"unparseable schedule: {text!r} : {e}"
                self.recorder.event(cron_job, "Warning", "UnparseableSchedule", message)
            return None

    async def _schedule(self, cron_job: Obj, status: Obj, now: datetime) -> float | None:
        """Starts the due Job, if any; answers the seconds until the next sync."""
        spec = cron_job.get("spec") or {}
        schedule = self._parse(cron_job)
        if spec.get("suspend") or schedule is None:
            return None
        created = parse_time(cron_job["metadata"].get("creationTimestamp")) or now
        last = parse_time(status.get("lastScheduleTime"))
        earliest = last or created
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None:
            earliest = max(earliest, now - timedelta(seconds=int(deadline)))
        try:
            scheduled, missed = schedule.most_recent(earliest, now)
            upcoming = schedule.next(max(now, earliest))
            job = None if scheduled is None else job_from_template(cron_job, scheduled)
        except ScheduleError as e:
            message = f"invalid schedule: {spec.get('schedule')} : {e}"
            self.recorder.event(cron_job, "Warning", "InvalidSchedule", message)
            return None
        wait = (upcoming - now).total_seconds() + NEXT_SCHEDULE_DELTA
        if scheduled is None or job is None:
            return wait
        if missed > TOO_MANY_MISSED:
            message = (
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds "
                "or check clock skew"
            )
            self.recorder.event(cron_job, "Warning", "TooManyMissedTimes", message)
        if deadline is not None and scheduled + timedelta(seconds=int(deadline)) < now:
            stamp = scheduled.strftime("%a, %d %b %Y %H:%M:%S +0000")
            message = f"Missed scheduled time to start a job: {stamp}"
            self.recorder.event(cron_job, "Normal", "MissSchedule", message)
            return wait
        name = job["metadata"]["name"]
        already = any(ref.get("name") == name for ref in status.get("active") or [])
        if already or (last is not None and last == scheduled):
            return wait
        active = list(status.get("active") or [])
        policy = spec.get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and active:
            message = (
                "Not starting job because prior execution is running and concurrency "
                "policy is Forbid"
            )
            self.recorder.event(cron_job, "Normal", "JobAlreadyActive", message)
            return wait
        if policy == "Replace":
            for ref in active:
                running = self.jobs.indexer.get_by_name(ref.get("namespace") or "", ref["name"])
                if running is not None:
                    await self._delete_job(cron_job, running)
                remove_from_active(status, ref.get("uid") or "")
        try:
            made = await self.client.create(JOBS, job)
        except APIError as e:
            if is_already_exists(e):
                log.info("cronjob %s: job %s already exists", object_key(cron_job), name)
                return wait
            self.recorder.event(cron_job, "Warning", "FailedCreate", f"Error creating job: {e}")
            raise
        self.recorder.event(cron_job, "Normal", "SuccessfulCreate", f"Created job {name}")
        status.setdefault("active", []).append(active_reference(made))
        status["lastScheduleTime"] = event_time(scheduled.astimezone(UTC))
        return wait
