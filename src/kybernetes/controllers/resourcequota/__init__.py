"""The ResourceQuota controller: `ResourceQuotaController(client, factory, clock=...)`
keeps quotas' `status.hard` and `status.used`; `usage` says what objects charge."""

from __future__ import annotations

from .controller import ResourceQuotaController

__all__ = ["ResourceQuotaController"]
