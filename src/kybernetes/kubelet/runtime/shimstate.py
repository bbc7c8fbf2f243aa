"""The container shim's files and conventions, shared by the shim (`shim.py`,
`shimloop.py`) and its clients (`shimclient.py`, the oci runtime): process identity by
pid + start time, atomic state files, the attach socket's address, and how ARGV[0] is
resolved (with runc's wording for failures). Standard library only, no `re`/`json`:
the shim imports this on every container start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def proc_starttime(pid: int) -> str:
    """Field 22 of /proc/PID/stat (start time in clock ticks); '' if there is no such
    process or it has ended (a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return ""
    fields = stat[stat.rindex(b")") + 2 :].split()
    return "" if fields[0] in (b"Z", b"X") else fields[19].decode()


def write_atomic(path: str, data: str) -> None:
    """Writes `data` to `path` so readers see the old file or the whole new one."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(data)
    os.replace(tmp, path)


def to_json(record: Mapping[str, int | str]) -> str:
    """A flat JSON object (the json module imports `re`, too slow for the shim)."""

    def value(v: int | str) -> str:
        if isinstance(v, int):
            return str(v)
        escaped = v.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + "".join(c if c >= " " else f"\\u{ord(c):04x}" for c in escaped) + '"'

    return "{" + ", ".join(f'"{k}": {value(v)}' for k, v in record.items()) + "}"


def socket_path(state_dir: str) -> str:
    """The attach socket of the shim in `state_dir`."""
    return os.path.join(state_dir, "attach.sock")


def bindable(path: str, dir_fd: int) -> str:
    """`path` if short enough for sockaddr_un, else the same file reached through
    /proc/self/fd/DIR_FD (an O_PATH descriptor of its directory)."""
    if len(path.encode()) < 100:
        return path
    return f"/proc/self/fd/{dir_fd}/{os.path.basename(path)}"


def resolve_executable(argv0: str, env: dict[str, str], cwd: str) -> str:
    """The file that exec would run for `argv0`; raises ValueError with runc's wording."""
    if "/" in argv0:
        path = argv0 if os.path.isabs(argv0) else os.path.join(cwd, argv0)
        if not os.path.exists(path):
            raise ValueError(f'exec: "{argv0}": stat {argv0}: no such file or directory')
        if os.path.isdir(path) or not os.access(path, os.X_OK):
            raise ValueError(f'exec: "{argv0}": permission denied')
        return path
    for directory in os.get_exec_path(env):
        candidate = os.path.join(directory or cwd, argv0)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise ValueError(f'exec: "{argv0}": executable file not found in $PATH')
