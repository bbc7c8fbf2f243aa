"""The user a container runs as: securityContext first, else the image's `User`,
resolved against the container's own /etc/passwd and /etc/group like containerd does.

Rules: `run_as_user` wins over the image; a group comes from `run_as_group`, else from
the image's "user:group", else from the user's passwd entry, else 0. A name that the
rootfs does not define is an error (a number never is). Additional groups are the
securityContext's supplementalGroups plus the groups of /etc/group listing the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kybernetes.kubelet.runtime.interface import SecurityContext


class UserError(Exception):
    """The image names a user or group its rootfs does not define."""


@dataclass(frozen=True)
class User:
    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    name: str = ""


def _entries(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def _lookup(entries: list[list[str]], key: str, what: str) -> list[str]:
    for e in entries:
        if len(e) >= 3 and (e[0] == key or (key.isdigit() and e[2] == key)):
            return e
    if key.isdigit():
        return []
    raise UserError(f"unable to find {what} {key}: no matching entries in {what} file")


def resolve_user(rootfs: Path, image_user: str, sc: SecurityContext) -> User:
    """The uid, gid and additional gids for a container whose root filesystem is
    mounted at `rootfs`. Raises UserError."""
    passwd = _entries(rootfs / "etc/passwd")
    groups = _entries(rootfs / "etc/group")
    user_part, _, group_part = image_user.partition(":")
    name = ""
    if sc.run_as_user is not None:
        uid = sc.run_as_user
        entry = _lookup(passwd, str(uid), "user")
        group_part = ""
    elif user_part:
        entry = _lookup(passwd, user_part, "user")
        uid = int(entry[2]) if entry else int(user_part)
    else:
        uid, entry = 0, _lookup(passwd, "0", "user")
    if entry:
        name = entry[0]
    if sc.run_as_group is not None:
        gid = sc.run_as_group
    elif group_part:
        gentry = _lookup(groups, group_part, "group")
        gid = int(gentry[2]) if gentry else int(group_part)
    elif len(entry) >= 4 and entry[3].isdigit():
        gid = int(entry[3])
    else:
        gid = 0
    extra = list(sc.supplemental_groups)
    if name:
        for g in groups:
            if len(g) >= 4 and g[2].isdigit() and name in g[3].split(","):
                extra.append(int(g[2]))
    unique = tuple(dict.fromkeys(x for x in extra if x != gid))
    return User(uid=uid, gid=gid, additional_gids=unique, name=name)
