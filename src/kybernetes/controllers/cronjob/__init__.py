"""The CronJob controller: `CronJobController(client, factory, recorder, clock=...,
workers=5)` starts Jobs on CronJobs' schedules (see `controller`, `schedule`, `jobs`)."""

from __future__ import annotations

from .controller import CronJobController

__all__ = ["CronJobController"]
