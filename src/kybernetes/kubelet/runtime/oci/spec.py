"""The OCI runtime spec (`config.json`) of a container, built from its ContainerConfig,
its image's config and its sandbox — a pure function, so every rule here is testable
without runc.

Kubernetes/containerd rules followed:
- process args: `command` replaces the image's Entrypoint (and then the image's Cmd is
  ignored), `args` replaces Cmd; none at all is an error.
- env: HOSTNAME, then the image's Env, then the container's envs; a later value of a
  name replaces the earlier one in place; the default PATH when none is set.
- cwd: workingDir, else the image's WorkingDir, else "/".
- capabilities: Docker/containerd's default set, "ALL" in add/drop applied first, then
  individual adds, then drops; privileged means every capability (that the runtime
  holds itself), every host device,
  /sys and cgroups writable and no masked or read-only paths. A non-root user keeps the
  bounding set but gets no effective or permitted capabilities (as moby does).
- mounts: proc, dev, devpts, shm (the sandbox's), mqueue, sysfs, cgroup (read-only),
  the sandbox's /etc/hosts, /etc/resolv.conf and /etc/hostname, then the container's
  bind mounts; a container mount replaces a default one with the same destination.
- namespaces: its own mount namespace, and pid namespace unless hostPID; net, ipc and
  uts joined by path unless the sandbox uses the host's.
"""

from __future__ import annotations

import os
import resource
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from kybernetes.kubelet.runtime.interface import ContainerConfig
from kybernetes.kubelet.runtime.oci.cgroups import swap_controllable
from kybernetes.kubelet.runtime.oci.users import User

DEFAULT_CAPS = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)
ALL_CAPS = (  # in the kernel's bit order
    *(
        [
            "CAP_CHOWN",
            "CAP_DAC_OVERRIDE",
            "CAP_DAC_READ_SEARCH",
            "CAP_FOWNER",
            "CAP_FSETID",
            "CAP_KILL",
        ]
    ),
    *(["CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE"]),
    *(["CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER"]),
    *(["CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT"]),
    *(["CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME"]),
    *(["CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL"]),
    *(["CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM"]),
    *(["CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]),
)
MASKED_PATHS = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NOFILE_LIMIT = 1048576  # containerd's (LimitNOFILE=infinity), if ours allows it


class SpecError(Exception):
    """The container cannot be described (e.g. no command at all)."""


@dataclass(frozen=True)
class SandboxView:
    """What a container's spec needs from its sandbox: the pinned namespace files
    (None: the host's), its files directory (hosts, resolv.conf, hostname, shm) and
    its hostname and sysctls; whether its containers share the host's PID namespace."""

    namespaces: Mapping[str, str | None]
    files_dir: Path
    hostname: str
    sysctls: Mapping[str, str]
    host_pid: bool = False


def process_args(config: ContainerConfig, image: Mapping[str, Any]) -> list[str]:
    """The container's argv by Kubernetes' command/args rules."""
    entrypoint = list(image.get("Entrypoint") or [])
    cmd = list(image.get("Cmd") or [])
    if config.command:
        argv = [*config.command, *config.args]
    elif config.args:
        argv = [*entrypoint, *config.args]
    else:
        argv = [*entrypoint, *cmd]
    if not argv:
        raise SpecError("no command specified")
    return argv


def process_env(
    hostname: str, image_env: Sequence[str], envs: Sequence[tuple[str, str]]
) -> list[str]:
    """HOSTNAME, image Env, container envs; later values of a name replace earlier ones.
    A PATH is always there (the default one when neither the image nor the pod set it)."""
    merged: dict[str, str] = {"HOSTNAME": hostname}
    for item in image_env:
        key, _, value = item.partition("=")
        merged[key] = value
    for key, value in envs:
        merged[key] = value
    merged.setdefault("PATH", DEFAULT_PATH)
    return [f"{k}={v}" for k, v in merged.items()]


def capabilities(config: ContainerConfig, uid: int) -> dict[str, list[str]]:
    """The OCI capability sets (see the module docstring)."""
    sc = config.security_context
    add = [_cap(c) for c in sc.add_capabilities]
    drop = [_cap(c) for c in sc.drop_capabilities]
    caps = current_capabilities() if sc.privileged else list(DEFAULT_CAPS)
    if not sc.privileged:
        if "CAP_ALL" in add:
            caps = current_capabilities()
        if "CAP_ALL" in drop:
            caps = []
        caps += [c for c in add if c != "CAP_ALL" and c not in caps]
        caps = [c for c in caps if c not in drop]
    effective = caps if uid == 0 else []
    return {"bounding": caps, "effective": effective, "permitted": effective}


@cache
def _bounding_mask() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapBnd:"):
                return int(line.split()[1], 16)
    return (1 << len(ALL_CAPS)) - 1


def current_capabilities() -> list[str]:
    """Every capability the runtime itself may grant (its bounding set): "all
    capabilities", like containerd's WithAllCurrentCapabilities."""
    mask = _bounding_mask()
    return [name for bit, name in enumerate(ALL_CAPS) if mask >> bit & 1]


def _cap(name: str) -> str:
    name = name.upper()
    return name if name.startswith("CAP_") else f"CAP_{name}"


def mounts(config: ContainerConfig, sandbox: SandboxView) -> list[dict[str, Any]]:
    """Default mounts, the sandbox's files, then the container's bind mounts."""
    privileged = config.security_context.privileged
    sys_opts = ["nosuid", "noexec", "nodev"] + ([] if privileged else ["ro"])
    out: list[dict[str, Any]] = [
        _m("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
        _m("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        _m(
            "/dev/pts",
            "devpts",
            "devpts",
            ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        ),
        _m("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
        _m("/sys", "sysfs", "sysfs", sys_opts),
        _m("/sys/fs/cgroup", "cgroup", "cgroup", [*sys_opts, "relatime"]),
    ]
    files = sandbox.files_dir
    shm = "/dev/shm" if sandbox.namespaces.get("ipc") is None else str(files / "shm")
    out.append(_m("/dev/shm", "bind", shm, ["rbind", "rprivate", "nosuid", "noexec", "nodev"]))
    for name in ("hosts", "resolv.conf", "hostname"):
        out.append(_m(f"/etc/{name}", "bind", str(files / name), ["rbind", "rprivate"]))
    wanted = {m.container_path for m in config.mounts}
    out = [m for m in out if m["destination"] not in wanted]
    for m in config.mounts:
        propagation = {"rslave": "rslave", "rshared": "rshared"}.get(m.propagation, "rprivate")
        opts = ["rbind", propagation] + (["ro"] if m.readonly else [])
        out.append(_m(m.container_path, "bind", m.host_path, opts))
    return out


def _m(destination: str, kind: str, source: str, options: list[str]) -> dict[str, Any]:
    return {"destination": destination, "type": kind, "source": source, "options": options}


def host_devices() -> list[dict[str, Any]]:
    """Every character and block device directly under the host's /dev (privileged)."""
    devices = []
    for entry in sorted(os.scandir("/dev"), key=lambda e: e.name):
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            devices.append(
                {
                    "path": entry.path,
                    "type": "c" if stat.S_ISCHR(st.st_mode) else "b",
                    "major": os.major(st.st_rdev),
                    "minor": os.minor(st.st_rdev),
                    "fileMode": stat.S_IMODE(st.st_mode),
                    "uid": st.st_uid,
                    "gid": st.st_gid,
                }
            )
    return devices


def resources(config: ContainerConfig, privileged: bool) -> dict[str, Any]:
    """linux.resources: device access, memory and cpu (0 means unset)."""
    r = config.resources
    out: dict[str, Any] = {"devices": [{"allow": privileged, "access": "rwm"}]}
    if r.memory_limit_in_bytes:  # no swap beyond the limit, as the kubelet wants
        out["memory"] = {"limit": r.memory_limit_in_bytes}
        if swap_controllable():
            out["memory"]["swap"] = r.memory_limit_in_bytes
    cpu = {
        k: v
        for k, v in (("shares", r.cpu_shares), ("quota", r.cpu_quota), ("period", r.cpu_period))
        if v
    }
    if cpu:
        out["cpu"] = cpu
    return out


def build_spec(
    config: ContainerConfig,
    image: Mapping[str, Any],
    sandbox: SandboxView,
    user: User,
    cgroups_path: str,
) -> dict[str, Any]:
    """The whole config.json for `config` (rootfs at bundle/rootfs). Raises SpecError."""
    sc = config.security_context
    privileged = sc.privileged
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nofile = NOFILE_LIMIT if hard == resource.RLIM_INFINITY else min(hard, NOFILE_LIMIT)
    namespaces: list[dict[str, str]] = [{"type": "mount"}]
    if not sandbox.host_pid:
        namespaces.append({"type": "pid"})
    for kind, oci_type in (("net", "network"), ("ipc", "ipc"), ("uts", "uts")):
        path = sandbox.namespaces.get(kind)
        if path is not None:
            namespaces.append({"type": oci_type, "path": path})
    linux: dict[str, Any] = {
        "namespaces": namespaces,
        "cgroupsPath": cgroups_path,
        "resources": resources(config, privileged),
        "sysctl": dict(sandbox.sysctls),
        "rootfsPropagation": "rprivate",
    }
    if privileged:
        linux["devices"] = host_devices()
    else:
        linux["maskedPaths"] = list(MASKED_PATHS)
        linux["readonlyPaths"] = list(READONLY_PATHS)
    process: dict[str, Any] = {
        "terminal": config.tty,
        "user": {"uid": user.uid, "gid": user.gid},
        "args": process_args(config, image),
        "env": process_env(sandbox.hostname, image.get("Env") or [], config.envs),
        "cwd": config.working_dir or image.get("WorkingDir") or "/",
        "capabilities": capabilities(config, user.uid),
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}],
        "noNewPrivileges": sc.no_new_privs and not privileged,
    }
    if user.additional_gids:
        process["user"]["additionalGids"] = list(user.additional_gids)
    if config.resources.oom_score_adj:
        process["oomScoreAdj"] = config.resources.oom_score_adj
    return {
        "ociVersion": "1.0.2",
        "process": process,
        "root": {"path": "rootfs", "readonly": sc.readonly_rootfs},
        "mounts": mounts(config, sandbox),
        "annotations": dict(config.annotations),
        "linux": linux,
    }
