"""Atomic projection of a set of files into a volume directory (Kubernetes' AtomicWriter).

The real files live in a hidden timestamped directory (`..2026_11_25_01_45_48.abc123`);
`..data` is a symlink to it, and each user-visible top-level entry is a symlink
through `..data` (`key -> ..data/key`, `dir -> ..data/dir`). An update writes a new
timestamped directory, points a fresh `..data_tmp` symlink at it and renames that
over `..data` (rename is atomic), so a reader sees either the whole old content or
the whole new one; then it adds links for new entries, removes links of entries that
went away and deletes the old timestamped directory.

Invariants: names starting with `..` are reserved; an unchanged payload (same paths,
bytes and modes) writes nothing; not safe for concurrent writers of one directory
(the caller serialises).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

DATA_DIR: Final = "..data"
NEW_DATA_DIR: Final = "..data_tmp"
_MAX_FILE_NAME: Final = 255
_MAX_PATH: Final = 4096


@dataclass(frozen=True)
class FileProjection:
    """One file of a payload: its bytes and permission bits."""

    data: bytes
    mode: int


def validate_path(target: str) -> None:
    """Raises ValueError (Kubernetes' text) unless `target` is a valid payload path."""
    if not target:
        raise ValueError(f'invalid path: must not be empty: "{target}"')
    if target.startswith("/"):
        raise ValueError(f"invalid path: must be relative path: {target}")
    if len(target) > _MAX_PATH:
        raise ValueError(f"invalid path: must be less than or equal to {_MAX_PATH} characters")
    items = target.split("/")
    for item in items:
        if item == "..":
            raise ValueError(f"invalid path: must not contain '..': {target}")
        if len(item) > _MAX_FILE_NAME:
            raise ValueError(
                f"invalid path: filenames must be less than or equal to {_MAX_FILE_NAME} characters"
            )
    if items[0].startswith("..") and len(items[0]) > 2:
        raise ValueError(f"invalid path: must not start with '..': {target}")


class AtomicWriter:
    """Writes payloads into `target` (which must exist); see the module docstring."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def write(
        self,
        payload: Mapping[str, FileProjection],
        now: datetime,
        set_perms: Callable[[], None] | None = None,
    ) -> bool:
        """Projects `payload` (relative path → file); returns whether anything changed.

        `now` (UTC) names the new timestamped directory; `set_perms` runs once the new
        files are written, before they become visible (fsGroup ownership). Raises
        ValueError for an invalid path and OSError when the disk refuses.
        """
        clean: dict[str, FileProjection] = {}
        for path, projection in payload.items():
            validate_path(path)
            clean[posixpath.normpath(path)] = projection
        data_link = self.target / DATA_DIR
        try:
            old_name = os.readlink(data_link)
        except FileNotFoundError:
            old_name = ""
        old_dir = self.target / old_name if old_name else None
        to_remove: set[str] = set()
        should_write = True
        if old_dir is not None:
            to_remove = _paths_to_remove(clean, old_dir)
            should_write = bool(to_remove) or any(
                _differs(old_dir / path, projection) for path, projection in clean.items()
            )
        if should_write:
            self._swap_in(clean, now, set_perms)
        changed = self._link_visible(clean) or should_write
        for path in to_remove:
            if "/" not in path:  # only the root's links; the rest went with the old dir
                (self.target / path).unlink(missing_ok=True)
        if should_write and old_dir is not None:
            shutil.rmtree(old_dir, ignore_errors=True)
        return changed

    def _swap_in(
        self,
        payload: Mapping[str, FileProjection],
        now: datetime,
        set_perms: Callable[[], None] | None,
    ) -> None:
        prefix = now.strftime("..%Y_%m_%d_%H_%M_%S.")
        ts_dir = Path(tempfile.mkdtemp(prefix=prefix, dir=self.target))
        try:
            ts_dir.chmod(0o755)
            for path, projection in payload.items():
                full = ts_dir / path
                full.parent.mkdir(parents=True, exist_ok=True)
                full.write_bytes(projection.data)
                full.chmod(projection.mode)
            if set_perms is not None:
                set_perms()
            new_link = self.target / NEW_DATA_DIR
            new_link.unlink(missing_ok=True)  # left over by an interrupted write
            new_link.symlink_to(ts_dir.name)
            new_link.rename(self.target / DATA_DIR)
        except BaseException:
            (self.target / NEW_DATA_DIR).unlink(missing_ok=True)
            shutil.rmtree(ts_dir, ignore_errors=True)
            raise

    def _link_visible(self, payload: Mapping[str, FileProjection]) -> bool:
        """Creates the missing `name -> ..data/name` links; whether any was missing."""
        created = False
        for name in {path.split("/", 1)[0] for path in payload}:
            link = self.target / name
            if not link.is_symlink():
                link.symlink_to(posixpath.join(DATA_DIR, name))
                created = True
        return created


def _differs(path: Path, projection: FileProjection) -> bool:
    try:
        if (path.stat().st_mode & 0o7777) != projection.mode:
            return True
        return path.read_bytes() != projection.data
    except OSError:  # missing or unreadable: rewrite it
        return True


def _paths_to_remove(payload: Mapping[str, FileProjection], old_dir: Path) -> set[str]:
    """Paths of the old version that the new payload (or its parents) lacks."""
    old: set[str] = set()
    for root, dirs, files in os.walk(old_dir):
        relative = os.path.relpath(root, old_dir)
        for name in (*dirs, *files):
            old.add(name if relative == "." else f"{relative}/{name}")
    new: set[str] = set()
    for path in payload:
        while path:
            new.add(path)
            path = posixpath.dirname(path)
    return old - new
