"""Image garbage collection under disk pressure, after the kubelet's image GC manager.

`ImageGC.garbage_collect(in_use)` looks at the image filesystem: when its usage is at
or above `high_threshold_percent` (kubelet default 85) it removes unused images until
usage is back to `low_threshold_percent` (default 80): least recently used first
(then first detected), never an image a container uses, never one first seen less than
`min_age` seconds ago (ImageMinimumGCAge, default 2 minutes).

It works on any CRI `ImageService` and a `fs_stats()` callable giving the image
filesystem's (capacity, available) bytes (`statvfs_stats(path)` for a real one), so the
kubelet can run it every 5 minutes (ImageGCPeriod) whatever the runtime.

Invariants: "last used" is the last time `garbage_collect` (or `detect`) saw the image
in use, "first detected" the first time it saw the image at all; both live in memory,
on the injected clock, as in Kubernetes. As in Kubernetes, an image frees its `size`.
When not enough can be freed it raises `ImageGCError` with the kubelet's message,
after freeing what it could.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kybernetes.client.clock import Clock

from ..runtime.interface import ImageService

DEFAULT_HIGH_THRESHOLD = 85
DEFAULT_LOW_THRESHOLD = 80
DEFAULT_MIN_AGE = 120.0


class ImageGCError(RuntimeError):
    """Not enough unused images to get below the low threshold."""


@dataclass
class _Seen:
    first_detected: float
    last_used: float


def statvfs_stats(path: str) -> tuple[int, int]:
    """(capacity, available bytes) of the filesystem holding `path`."""
    st = os.statvfs(path)
    return st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize


class ImageGC:
    """Frees disk by removing unused images (kubelet's realImageGCManager)."""

    def __init__(
        self,
        images: ImageService,
        fs_stats: Callable[[], tuple[int, int]],
        clock: Clock,
        *,
        high_threshold_percent: int = DEFAULT_HIGH_THRESHOLD,
        low_threshold_percent: int = DEFAULT_LOW_THRESHOLD,
        min_age: float = DEFAULT_MIN_AGE,
    ) -> None:
        """`fs_stats()` gives (capacity, available) bytes of the image filesystem."""
        if not 0 <= low_threshold_percent <= high_threshold_percent <= 100:
            raise ValueError(
                f"invalid thresholds: low {low_threshold_percent}% must be at most "
                f"high {high_threshold_percent}% (0-100)"
            )
        self.images = images
        self.clock = clock
        self.high = high_threshold_percent
        self.low = low_threshold_percent
        self.min_age = min_age
        self.fs_stats = fs_stats
        self._seen: dict[str, _Seen] = {}
        self._sizes: dict[str, int] = {}

    async def detect(self, in_use: Iterable[str]) -> set[str]:
        """Records first-detected and last-used times; returns the ids of images present
        and not in use."""
        now = self.clock.now()
        used = set()
        for ref in in_use:  # ids or references; unknown ones name nothing
            image = await self.images.image_status(ref)
            if image is not None:
                used.add(image.id)
        images = await self.images.list_images()
        self._sizes = {i.id: i.size for i in images}
        present = set(self._sizes)
        for image_id in present:
            seen = self._seen.setdefault(image_id, _Seen(now, now))
            if image_id in used:
                seen.last_used = now
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return present - used

    async def garbage_collect(self, in_use: Iterable[str]) -> int:
        """Frees space when usage >= the high threshold, down to the low threshold;
        returns the bytes freed. Raises ImageGCError when it cannot free enough."""
        unused = await self.detect(in_use)
        capacity, available = self.fs_stats()
        if capacity <= 0:
            return 0
        usage_percent = 100 - available * 100 // capacity
        if usage_percent < self.high:
            return 0
        to_free = capacity * (100 - self.low) // 100 - available
        freed = await self._free(to_free, unused)
        if freed < to_free:
            raise ImageGCError(
                f"Failed to garbage collect required amount of images. Attempted to free "
                f"{to_free} bytes, but only found {freed} bytes eligible to free."
            )
        return freed

    async def delete_unused(self, in_use: Iterable[str]) -> int:
        """Removes every unused image old enough (as the kubelet does under eviction);
        returns the bytes freed."""
        unused = await self.detect(in_use)
        return await self._free(None, unused)

    async def _free(self, to_free: int | None, unused: set[str]) -> int:
        now = self.clock.now()
        candidates = sorted(
            (i for i in unused if now - self._seen[i].first_detected >= self.min_age),
            key=lambda i: (self._seen[i].last_used, self._seen[i].first_detected, i),
        )
        freed = 0
        for image_id in candidates:
            if to_free is not None and freed >= to_free:
                break
            await self.images.remove_image(image_id)
            self._seen.pop(image_id, None)
            freed += self._sizes.get(image_id, 0)
        return freed
