"""Logic shared by every backend, written once on top of the primitive operations."""

from __future__ import annotations

from .interface import Conflict, KeyExists, KeyNotFound, KeyValue, UpdateFunc


class StoreBase:
    """Mix-in giving `guaranteed_update` to a class with `get`, `create` and `update`."""

    async def get(self, key: str) -> KeyValue | None:
        raise NotImplementedError

    async def create(self, key: str, value: bytes, *, ttl: int | None = None) -> KeyValue:
        raise NotImplementedError

    async def update(
        self, key: str, value: bytes, *, expected_mod_revision: int, ttl: int | None = None
    ) -> KeyValue:
        raise NotImplementedError

    async def guaranteed_update(
        self, key: str, update: UpdateFunc, *, ttl: int | None = None
    ) -> KeyValue | None:
        """See `Store.guaranteed_update`: retries the compare-and-swap with fresh state."""
        current = await self.get(key)
        while True:
            value = update(current)
            if value is None or (current is not None and value == current.value):
                return current
            try:
                if current is None:
                    return await self.create(key, value, ttl=ttl)
                return await self.update(
                    key, value, expected_mod_revision=current.mod_revision, ttl=ttl
                )
            except Conflict as e:
                current = e.current
            except (KeyExists, KeyNotFound):
                current = await self.get(key)
