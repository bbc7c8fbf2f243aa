"""The serviceaccount controller: a `default` ServiceAccount in every Active
namespace (see `controller`)."""

from __future__ import annotations

from .controller import DEFAULT, ServiceAccountController

__all__ = ["DEFAULT", "ServiceAccountController"]
