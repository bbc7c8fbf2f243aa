"""Volume ownership for `securityContext.fsGroup` (Kubernetes' `SetVolumeOwnership`).

Every entry of the volume gets the fsGroup as its group (symlinks themselves, not
their targets); files gain group read (and write unless the volume is read-only),
directories also group execute and the setgid bit, so what containers create there
inherits the group. Symlinks keep their mode: chmod would reach their target.

Invariants: never follows symlinks; raises OSError when the kernel refuses.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final

_READ_WRITE: Final = 0o660
_READ_ONLY: Final = 0o440
_EXECUTE: Final = 0o110


def set_volume_ownership(path: Path, fs_group: int, read_only: bool) -> None:
    """Gives `path` and everything below it to group `fs_group`; see the module docstring."""
    mask = _READ_ONLY if read_only else _READ_WRITE
    for root, dirs, files in os.walk(path):
        entries = [root] if root == str(path) else []
        entries += [os.path.join(root, name) for name in (*dirs, *files)]
        for entry in entries:
            os.lchown(entry, -1, fs_group)
            info = os.lstat(entry)
            if stat.S_ISLNK(info.st_mode):
                continue
            extra = mask | _EXECUTE | stat.S_ISGID if stat.S_ISDIR(info.st_mode) else mask
            os.chmod(entry, stat.S_IMODE(info.st_mode) | extra)
