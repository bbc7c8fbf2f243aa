"""The kubelet's volume manager: a pod's volumes on disk, and its containers' mounts.

Layout under the kubelet root (ROOT, normally DATA_DIR/kubelet):
  ROOT/pods/UID/volumes/kubernetes.io~PLUGIN/NAME   a volume (PLUGIN: empty-dir,
                                                    configmap, secret, downward-api,
                                                    projected); hostPath volumes are
                                                    the host's own path
  ROOT/pods/UID/etc-hosts                           the managed /etc/hosts
  ROOT/pods/UID/containers/NAME/ATTEMPT             the termination-message file of
                                                    attempt ATTEMPT (restart count)

`setup(pod)` is idempotent and is also the refresh: re-running it rewrites
configMap, secret, downwardAPI and projected content that changed, atomically (see
`atomic_writer`). As root, emptyDir `medium: Memory`, secret, downwardAPI and projected
volumes are tmpfs mounts (sized like Kubernetes: the smallest of sizeLimit, the pod's memory
limit and the node's allocatable memory); otherwise they are plain directories.
`teardown(uid)` unmounts them and removes ROOT/pods/UID. With `securityContext.fsGroup`
(and a root kubelet), new emptyDirs and every write of the other volumes get that
group (see `ownership`).

Invariants: calls for one pod are serialised by a per-pod lock; a volume that
fails leaves the others set up, and `setup` then raises `MountError` carrying one
`MountVolume.SetUp failed for volume "NAME" : …` message (Kubernetes' FailedMount
event text) per failed volume.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from kybernetes.api.quantity import QuantityError, quantity_from_json
from kybernetes.client.clock import Clock, SystemClock
from kybernetes.kubelet.envvars import Getter
from kybernetes.kubelet.fieldpath import status_ips
from kybernetes.kubelet.runtime.interface import Mount
from kybernetes.kubelet.runtime.oci.mounts import is_mountpoint, mounts_under, unmount_all
from kybernetes.kubelet.volumes import hosts, sources
from kybernetes.kubelet.volumes.atomic_writer import AtomicWriter
from kybernetes.kubelet.volumes.mounts import DEFAULT_TERMINATION_PATH, volume_mount
from kybernetes.kubelet.volumes.ownership import set_volume_ownership
from kybernetes.kubelet.volumes.sources import Obj, Payload, SourceError, TokenRequester

FAILED_MOUNT: Final = "FailedMount"
ETC_HOSTS: Final = "/etc/hosts"
_PLUGINS: Final = {
    "emptyDir": "kubernetes.io~empty-dir", "configMap": "kubernetes.io~configmap",
    "secret": "kubernetes.io~secret", "downwardAPI": "kubernetes.io~downward-api",
    "projected": "kubernetes.io~projected",
}  # fmt: skip
_READ_ONLY: Final = frozenset({"configMap", "secret", "downwardAPI", "projected"})
# Kubernetes backs these with a memory emptyDir (configMap uses disk).
_MEMORY_BACKED: Final = frozenset({"secret", "downwardAPI", "projected"})


class MountError(OSError):
    """Volumes that could not be set up; `messages` holds one FailedMount event text
    per failed volume, `failures` the (volume, cause) pairs."""

    reason = FAILED_MOUNT

    def __init__(self, failures: Sequence[tuple[str, str]]) -> None:
        self.failures = list(failures)
        self.messages = [
            f'MountVolume.SetUp failed for volume "{volume}" : {message}'
            for volume, message in self.failures
        ]
        super().__init__("\n".join(self.messages))


def volume_kind(volume: Obj) -> str:
    """The source field set on a pod volume (`emptyDir` when none is)."""
    for key, value in volume.items():
        if key != "name" and value is not None:
            return key
    return "emptyDir"


class VolumeManager:
    """Sets up and tears down pod volumes under `root`; see the module docstring.

    `getter(resource, namespace, name)` reads ConfigMaps/Secrets (None: not found).
    `node_allocatable` (a resource list) feeds resourceFieldRef defaults and tmpfs
    sizes; `token_requester` issues projected service account tokens (without one,
    such volumes fail with a clear message: the API server has no TokenRequest yet).
    """

    def __init__(
        self,
        root: Path,
        getter: Getter,
        *,
        clock: Clock | None = None,
        cluster_domain: str = "cluster.local",
        node_allocatable: Mapping[str, object] | None = None,
        token_requester: TokenRequester | None = None,
        node_hosts: Path = Path(ETC_HOSTS),
        use_tmpfs: bool | None = None,
    ) -> None:
        self.root = root
        self.node_allocatable: Mapping[str, object] = dict(node_allocatable or {})
        self._getter = getter
        self._clock: Clock = clock or SystemClock()
        self._cluster_domain = cluster_domain
        self._token_requester = token_requester
        self._node_hosts = node_hosts
        self._root = os.geteuid() == 0
        self._use_tmpfs = self._root if use_tmpfs is None else use_tmpfs
        self._locks: dict[str, asyncio.Lock] = {}

    def pod_dir(self, pod_uid: str) -> Path:
        return self.root / "pods" / pod_uid

    def volume_dir(self, pod_uid: str, kind: str, name: str) -> Path:
        """Where a volume of source `kind` (`configMap`, `emptyDir`…) lives."""
        return self.pod_dir(pod_uid) / "volumes" / _PLUGINS[kind] / name

    def termination_log(self, pod_uid: str, container: str, attempt: int) -> Path:
        """The host file behind a container attempt's terminationMessagePath."""
        return self.pod_dir(pod_uid) / "containers" / container / str(attempt)

    def pods_on_disk(self) -> list[str]:
        """UIDs of the pods that have a directory here (to find orphans after a restart)."""
        pods = self.root / "pods"
        return (
            sorted(entry.name for entry in pods.iterdir() if entry.is_dir())
            if pods.is_dir()
            else []
        )

    def _lock(self, pod_uid: str) -> asyncio.Lock:
        return self._locks.setdefault(pod_uid, asyncio.Lock())

    async def setup(self, pod: Obj) -> dict[str, Path]:
        """Sets up (or refreshes) every volume of `pod`; volume name → host path.

        Raises `MountError` after trying all volumes if any failed.
        """
        uid = str(pod["metadata"]["uid"])
        async with self._lock(uid):
            paths: dict[str, Path] = {}
            failures: list[tuple[str, str]] = []
            for volume in (pod.get("spec") or {}).get("volumes") or ():
                try:
                    paths[volume["name"]] = await self._setup_volume(pod, volume)
                except Exception as error:  # any failure, API errors included, is a FailedMount
                    failures.append((volume["name"], str(error)))
            if failures:
                raise MountError(failures)
            return paths

    async def _setup_volume(self, pod: Obj, volume: Obj) -> Path:
        kind = volume_kind(volume)
        source: Obj = volume.get(kind) or {}
        uid = str(pod["metadata"]["uid"])
        if kind == "hostPath":
            path = str(source.get("path", ""))
            await asyncio.to_thread(sources.check_host_path, path, str(source.get("type") or ""))
            return Path(path)
        if kind not in _PLUGINS:
            raise SourceError(f"volume type {kind} is not supported by this kubelet")
        target = self.volume_dir(uid, kind, str(volume["name"]))
        memory = kind in _MEMORY_BACKED or source.get("medium") == "Memory"
        fresh = await self._prepare_dir(pod, target, source if kind == "emptyDir" else {}, memory)
        fs_group = ((pod.get("spec") or {}).get("securityContext") or {}).get("fsGroup")
        if not self._root:  # only root may give files to any group
            fs_group = None
        if kind == "emptyDir":
            if fresh and fs_group is not None:
                await asyncio.to_thread(set_volume_ownership, target, int(fs_group), False)
            return target
        payload = await self._payload(pod, kind, source)
        set_perms = None
        if fs_group is not None:
            set_perms = functools.partial(set_volume_ownership, target, int(fs_group), True)
        writer = AtomicWriter(target)
        await asyncio.to_thread(writer.write, payload, self._clock.wall(), set_perms)
        return target

    async def _payload(self, pod: Obj, kind: str, source: Obj) -> Payload:
        namespace = str(pod["metadata"].get("namespace", ""))
        mode = int(source.get("defaultMode", sources.DEFAULT_MODE))
        if kind == "configMap":
            return await sources.object_payload(self._getter, "configmaps", namespace, source, mode)
        if kind == "secret":
            return await sources.object_payload(self._getter, "secrets", namespace, source, mode)
        if kind == "downwardAPI":
            items = source.get("items") or ()
            return sources.downward_payload(pod, items, mode, self.node_allocatable)
        return await sources.projected_payload(
            self._getter, pod, source, self.node_allocatable, self._token_requester
        )

    async def _prepare_dir(self, pod: Obj, target: Path, empty_dir: Obj, memory: bool) -> bool:
        """The volume's directory (0777, like emptyDir), a tmpfs when memory-backed;
        whether it is new (just created or mounted)."""
        created, mounted = await asyncio.to_thread(_make_volume_dir, target)
        if not memory or not self._use_tmpfs or mounted:
            return created
        size = self._tmpfs_size(pod, empty_dir.get("sizeLimit"))
        options = f"size={size}" if size else "defaults"
        process = await asyncio.create_subprocess_exec(
            "mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise SourceError(f"mount failed: exit status {process.returncode}: {output.decode()}")
        return True

    def _tmpfs_size(self, pod: Obj, size_limit: object) -> int:
        """Bytes of a memory-backed volume; 0 when nothing bounds it."""
        bounds: list[int] = []
        try:
            if (memory := self.node_allocatable.get("memory")) is not None:
                bounds.append(quantity_from_json(memory).value())
            if (pod_limit := _pod_memory_limit(pod)) > 0:
                bounds.append(pod_limit)
            if size_limit is not None and (limit := quantity_from_json(size_limit).value()) > 0:
                bounds.append(limit)
        except QuantityError as error:
            raise SourceError(str(error)) from error
        return min(bounds, default=0)

    async def teardown(self, pod_uid: str) -> None:
        """Unmounts the pod's tmpfs volumes and removes ROOT/pods/UID. Idempotent."""
        async with self._lock(pod_uid):
            await asyncio.to_thread(self._remove, self.pod_dir(pod_uid))
        self._locks.pop(pod_uid, None)

    @staticmethod
    def _remove(pod_dir: Path) -> None:
        if not pod_dir.exists():
            return
        unmount_all(pod_dir)
        if left := mounts_under(pod_dir):
            raise OSError(f"still mounted below {pod_dir}: {', '.join(left)}")
        shutil.rmtree(pod_dir)

    def write_hosts_file(self, pod: Obj, pod_ips: Sequence[str]) -> Path:
        """Writes the pod's managed hosts file (in place, so mounts see it); its path."""
        path = self.pod_dir(str(pod["metadata"]["uid"])) / "etc-hosts"
        if (pod.get("spec") or {}).get("hostNetwork"):
            content = hosts.node_hosts_content(pod, self._node_hosts)
        else:
            content = hosts.managed_hosts_content(pod, pod_ips, self._cluster_domain)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        path.chmod(0o644)
        return path

    def container_mounts(
        self,
        pod: Obj,
        container: Obj,
        paths: Mapping[str, Path],
        *,
        env: Sequence[tuple[str, str]] = (),
        pod_ips: Sequence[str] | None = None,
        attempt: int = 0,
    ) -> list[Mount]:
        """The bind mounts of one container attempt (Kubernetes' `makeMounts`).

        `paths` is what `setup` returned; `env` the container's environment (for
        `subPathExpr`); `pod_ips` default to the pod's status. The result is the
        volumeMounts in order, then /etc/hosts (when the pod has an IP or uses the
        host network and no volume is mounted there), then the termination-message
        file of `attempt`, created empty (mode 0666, so any user may write it).
        Raises `volumes.mounts.ContainerMountError`.
        """
        spec: Obj = pod.get("spec") or {}
        uid = str(pod["metadata"]["uid"])
        kinds = {str(v["name"]): volume_kind(v) for v in spec.get("volumes") or ()}
        if pod_ips is None:
            pod_ips = status_ips(pod, "pod")
        mounts = [
            volume_mount(entry, paths, kinds.get(str(entry.get("name"))) in _READ_ONLY,
                         container, env)
            for entry in container.get("volumeMounts") or ()
        ]  # fmt: skip
        over_hosts = any(m.container_path == ETC_HOSTS for m in mounts)
        if (pod_ips or spec.get("hostNetwork")) and not over_hosts:
            mounts.append(Mount(ETC_HOSTS, str(self.write_hosts_file(pod, pod_ips))))
        log = self.termination_log(uid, str(container["name"]), attempt)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_bytes(b"")
        log.chmod(0o666)
        message_path = container.get("terminationMessagePath") or DEFAULT_TERMINATION_PATH
        mounts.append(Mount(str(message_path), str(log)))
        return mounts


def _make_volume_dir(target: Path) -> tuple[bool, bool]:
    """Creates the volume directory (0777, like emptyDir): (created, is a mount point)."""
    created = not target.is_dir()
    if created:
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(0o777)
    return created, is_mountpoint(target)


def _pod_memory_limit(pod: Obj) -> int:
    """The pod's memory limit in bytes, 0 unless every container declares one."""
    spec: Obj = pod.get("spec") or {}
    limits: list[int] = []
    for container in spec.get("containers") or ():
        limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
        if limit is None or (value := quantity_from_json(limit).value()) <= 0:
            return 0
        limits.append(value)
    init = [
        quantity_from_json(memory).value()
        for container in spec.get("initContainers") or ()
        if (memory := ((container.get("resources") or {}).get("limits") or {}).get("memory"))
    ]
    return max([sum(limits), *init])
