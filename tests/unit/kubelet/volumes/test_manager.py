"""VolumeManager: each volume plugin, refreshes seen through the visible links,
Kubernetes' error messages, teardown, and container mounts."""

from __future__ import annotations

import base64
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kybernetes.client.clock import FakeClock
from kybernetes.kubelet.runtime.interface import Mount
from kybernetes.kubelet.runtime.oci.mounts import is_mountpoint
from kybernetes.kubelet.volumes.manager import MountError, VolumeManager
from kybernetes.kubelet.volumes.mounts import ContainerMountError, read_termination_message

UID = "0a1b2c3d"


class Objects:
    """A getter over in-memory ConfigMaps and Secrets."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}

    def configmap(
        self, name: str, data: dict[str, str], binary: dict[str, bytes] | None = None
    ) -> None:
        obj: dict[str, Any] = {"data": data}
        if binary:
            obj["binaryData"] = {k: base64.b64encode(v).decode() for k, v in binary.items()}
        self.objects["configmaps", "ns", name] = obj

    def secret(self, name: str, data: dict[str, bytes]) -> None:
        encoded = {k: base64.b64encode(v).decode() for k, v in data.items()}
        self.objects["secrets", "ns", name] = {"data": encoded}

    async def __call__(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((resource, namespace, name))


def _pod(volumes: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web-0",
            "namespace": "ns",
            "uid": UID,
            "labels": {"b": "2", "a": "1"},
            "annotations": {"x.io/y": "z"},
        },
        "spec": {"volumes": volumes, "containers": [{"name": "c"}], **spec},
    }


@pytest.fixture
def objects() -> Objects:
    return Objects()


@pytest.fixture
async def manager(tmp_path: Path, objects: Objects) -> AsyncIterator[VolumeManager]:
    manager = VolumeManager(tmp_path / "kubelet", objects, clock=FakeClock(), use_tmpfs=False)
    yield manager
    await manager.teardown(UID)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def _read(path: str) -> str:
    return Path(path).read_text()


def _mount_count(path: Path) -> int:
    """How many mounts sit exactly at `path`."""
    with open("/proc/self/mountinfo") as mountinfo:
        return sum(line.split()[4] == str(path) for line in mountinfo)


async def test_configmap_items_modes_and_refresh(manager: VolumeManager, objects: Objects) -> None:
    objects.configmap("cm", {"a": "1", "b": "2"}, {"bin": b"\x00\xff"})
    pod = _pod([
        {"name": "all", "configMap": {"name": "cm", "defaultMode": 0o600}},
        {"name": "some", "configMap": {"name": "cm", "items": [
            {"key": "a", "path": "dir/a.txt", "mode": 0o400}, {"key": "b", "path": "b"}]}},
    ])  # fmt: skip
    paths = await manager.setup(pod)
    root = manager.root / "pods" / UID / "volumes" / "kubernetes.io~configmap"
    assert paths == {"all": root / "all", "some": root / "some"}
    assert (paths["all"] / "a").read_text() == "1"
    assert (paths["all"] / "bin").read_bytes() == b"\x00\xff"
    assert _mode(paths["all"] / "a") == 0o600
    assert (paths["some"] / "dir" / "a.txt").read_text() == "1"
    assert _mode(paths["some"] / "dir" / "a.txt") == 0o400
    assert _mode(paths["some"] / "b") == 0o644
    assert sorted(p for p in os.listdir(paths["some"]) if not p.startswith("..")) == ["b", "dir"]

    objects.configmap("cm", {"a": "new", "b": "2"})
    assert await manager.setup(pod) == paths
    assert (paths["all"] / "a").read_text() == "new"
    assert (paths["some"] / "dir" / "a.txt").read_text() == "new"
    objects.configmap("cm", {"a": "newer"})
    with pytest.raises(MountError) as caught:
        await manager.setup(pod)  # `some` still wants key b, which went away
    assert caught.value.messages == [
        'MountVolume.SetUp failed for volume "some" : configmap references non-existent config '
        "key: b"
    ]
    assert (paths["all"] / "a").read_text() == "newer"
    assert not (paths["all"] / "b").is_symlink()
    assert (paths["some"] / "b").read_text() == "2"  # the failed volume keeps its last content


async def test_missing_objects_fail_unless_optional(
    manager: VolumeManager, objects: Objects
) -> None:
    pod = _pod([
        {"name": "cm", "configMap": {"name": "absent"}},
        {"name": "sec", "secret": {"secretName": "absent"}},
        {"name": "opt", "configMap": {"name": "absent", "optional": True}},
        {"name": "opt-items", "secret": {"secretName": "absent", "optional": True,
                                         "items": [{"key": "k", "path": "k"}]}},
        {"name": "scratch", "emptyDir": {}},
    ])  # fmt: skip
    with pytest.raises(MountError) as caught:
        await manager.setup(pod)
    assert caught.value.reason == "FailedMount"
    assert caught.value.failures == [
        ("cm", 'configmap "absent" not found'),
        ("sec", 'secret "absent" not found'),
    ]
    assert str(caught.value) == (
        'MountVolume.SetUp failed for volume "cm" : configmap "absent" not found\n'
        'MountVolume.SetUp failed for volume "sec" : secret "absent" not found'
    )
    volumes = manager.root / "pods" / UID / "volumes"
    assert (volumes / "kubernetes.io~empty-dir" / "scratch").is_dir()
    optional = volumes / "kubernetes.io~configmap" / "opt"
    assert [p for p in os.listdir(optional) if not p.startswith("..")] == []

    objects.configmap("absent", {"k": "v"})
    objects.secret("absent", {"k": b"s3cret"})
    paths = await manager.setup(pod)
    assert (paths["cm"] / "k").read_text() == "v"
    assert (paths["sec"] / "k").read_bytes() == b"s3cret"
    assert (paths["opt-items"] / "k").read_bytes() == b"s3cret"


async def test_secret_defaults_and_missing_key(manager: VolumeManager, objects: Objects) -> None:
    objects.secret("tls", {"tls.crt": b"CERT", "tls.key": b"KEY"})
    pod = _pod(
        [{"name": "s", "secret": {"secretName": "tls", "items": [{"key": "nope", "path": "x"}]}}]
    )
    with pytest.raises(MountError) as caught:
        await manager.setup(pod)
    assert caught.value.failures == [("s", "references non-existent secret key: nope")]
    paths = await manager.setup(_pod([{"name": "s", "secret": {"secretName": "tls"}}]))
    assert (paths["s"] / "tls.key").read_bytes() == b"KEY"
    assert _mode(paths["s"] / "tls.key") == 0o644
    assert paths["s"].parent.name == "kubernetes.io~secret"


async def test_downward_api(manager: VolumeManager) -> None:
    container = {
        "name": "c",
        "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "32Mi"}},
    }
    manager.node_allocatable = {"cpu": "2", "memory": "4Gi"}
    pod = _pod(
        [{"name": "info", "downwardAPI": {"defaultMode": 0o444, "items": [
            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
            {"path": "meta/name", "fieldRef": {"fieldPath": "metadata.name"}},
            {"path": "ann", "fieldRef": {"fieldPath": "metadata.annotations['x.io/y']"}},
            {"path": "cpu", "resourceFieldRef": {"containerName": "c", "resource": "limits.cpu",
                                                 "divisor": "1m"}, "mode": 0o400},
            {"path": "mem", "resourceFieldRef": {"containerName": "c",
                                                 "resource": "limits.memory", "divisor": "1Mi"}},
        ]}}],
        containers=[container],
    )  # fmt: skip
    paths = await manager.setup(pod)
    info = paths["info"]
    assert info.parent.name == "kubernetes.io~downward-api"
    assert (info / "labels").read_text() == 'a="1"\nb="2"'
    assert (info / "meta" / "name").read_text() == "web-0"
    assert (info / "ann").read_text() == "z"
    assert (info / "cpu").read_text() == "500"
    assert (info / "mem").read_text() == "4096"
    assert _mode(info / "cpu") == 0o400 and _mode(info / "labels") == 0o444

    pod["metadata"]["labels"]["c"] = "3"
    await manager.setup(pod)
    assert (info / "labels").read_text() == 'a="1"\nb="2"\nc="3"'


async def test_projected_merges_sources(manager: VolumeManager, objects: Objects) -> None:
    objects.configmap("cm", {"config": "cfg", "shared": "from-cm"})
    objects.secret("sec", {"shared": b"from-secret"})
    pod = _pod([{"name": "all", "projected": {"defaultMode": 0o640, "sources": [
        {"configMap": {"name": "cm"}},
        {"secret": {"name": "sec"}},
        {"downwardAPI": {"items": [
            {"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
    ]}}])  # fmt: skip
    paths = await manager.setup(pod)
    projected = paths["all"]
    assert projected.parent.name == "kubernetes.io~projected"
    assert (projected / "config").read_text() == "cfg"
    assert (projected / "shared").read_text() == "from-secret"
    assert (projected / "ns").read_text() == "ns"
    assert _mode(projected / "config") == 0o640


async def test_projected_token_needs_a_token_source(tmp_path: Path, objects: Objects) -> None:
    source = {"projected": {"sources": [
        {"serviceAccountToken": {"path": "token", "audience": "api", "expirationSeconds": 600}},
        {"configMap": {"name": "missing"}},
    ]}}  # fmt: skip
    pod = _pod([{"name": "token", **source}], serviceAccountName="robot")
    manager = VolumeManager(tmp_path, objects, use_tmpfs=False)
    with pytest.raises(MountError) as caught:
        await manager.setup(pod)
    assert caught.value.failures == [
        (
            "token",
            "[failed to fetch token: the API server does not serve TokenRequest "
            "(serviceaccounts/token) yet, so no service account token can be issued, "
            'configmap "missing" not found]',
        )
    ]
    requests: list[tuple[str, str, str, int]] = []

    async def issue(namespace: str, account: str, audience: str, seconds: int, _: Any) -> str:
        requests.append((namespace, account, audience, seconds))
        return "jwt"

    objects.configmap("missing", {"ca.crt": "CA"})
    manager = VolumeManager(tmp_path, objects, use_tmpfs=False, token_requester=issue)
    paths = await manager.setup(pod)
    assert (paths["token"] / "token").read_text() == "jwt"
    assert requests == [("ns", "robot", "api", 600)]
    await manager.teardown(UID)


async def test_host_path_types(manager: VolumeManager, tmp_path: Path) -> None:
    made_dir, made_file = tmp_path / "made" / "dir", tmp_path / "made-file"
    sock_path = tmp_path / "s.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(sock_path))
    try:
        ok = [
            {"name": "dir", "hostPath": {"path": str(made_dir), "type": "DirectoryOrCreate"}},
            {"name": "file", "hostPath": {"path": str(made_file), "type": "FileOrCreate"}},
            {"name": "any", "hostPath": {"path": str(tmp_path / "nothing-here")}},
            {"name": "sock", "hostPath": {"path": str(sock_path), "type": "Socket"}},
            {"name": "null", "hostPath": {"path": "/dev/null", "type": "CharDevice"}},
        ]
        paths = await manager.setup(_pod(ok))
        assert made_dir.is_dir() and made_file.is_file()
        assert paths["file"] == made_file and paths["null"] == Path("/dev/null")
        bad = [
            {"name": "a", "hostPath": {"path": str(made_file), "type": "Directory"}},
            {"name": "b", "hostPath": {"path": str(made_dir), "type": "File"}},
            {"name": "c", "hostPath": {"path": str(made_file), "type": "DirectoryOrCreate"}},
            {"name": "d", "hostPath": {"path": str(tmp_path / "none"), "type": "Socket"}},
            {"name": "e", "hostPath": {"path": "/dev/null", "type": "BlockDevice"}},
            {"name": "f", "hostPath": {"path": str(made_dir), "type": "Weird"}},
            {"name": "g", "hostPath": {"path": "/tmp/../etc"}},
        ]
        with pytest.raises(MountError) as caught:
            await manager.setup(_pod(bad))
        assert caught.value.failures == [
            ("a", f"hostPath type check failed: {made_file} is not a directory, it's a File"),
            ("b", f"hostPath type check failed: {made_dir} is not a file, it's a Directory"),
            ("c", f"hostPath type check failed: {made_file} is not a directory, it's a File"),
            ("d", f"hostPath {tmp_path / 'none'} doesn't exist"),
            ("e", "hostPath type check failed: /dev/null is not a block device, it's a CharDevice"),
            ("f", "Weird is an invalid volume type"),
            ("g", "invalid HostPath `/tmp/../etc`: must not contain '..'"),
        ]
    finally:
        listener.close()


async def test_teardown_removes_everything_and_is_idempotent(manager: VolumeManager) -> None:
    paths = await manager.setup(_pod([{"name": "scratch", "emptyDir": {"medium": "Memory"}}]))
    assert _mode(paths["scratch"]) == 0o777
    (paths["scratch"] / "data").write_text("x")
    assert manager.pods_on_disk() == [UID]
    await manager.teardown(UID)
    assert not (manager.root / "pods" / UID).exists()
    assert manager.pods_on_disk() == []
    await manager.teardown(UID)


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="mounting tmpfs needs root")
async def test_memory_volumes_are_sized_tmpfs_mounts(tmp_path: Path, objects: Objects) -> None:
    objects.secret("sec", {"k": b"v"})
    manager = VolumeManager(tmp_path, objects, use_tmpfs=True, node_allocatable={"memory": "1Gi"})
    pod = _pod(
        [
            {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
            {"name": "sec", "secret": {"secretName": "sec"}},
            {
                "name": "info",
                "downwardAPI": {
                    "items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]
                },
            },
            {"name": "cm", "configMap": {"name": "absent", "optional": True}},
        ],
        containers=[{"name": "c", "resources": {"limits": {"memory": "128Mi"}}}],
    )
    try:
        paths = await manager.setup(pod)
        await manager.setup(pod)  # idempotent: no second mount on top
        assert is_mountpoint(paths["mem"]) and is_mountpoint(paths["sec"])
        assert is_mountpoint(paths["info"]) and not is_mountpoint(paths["cm"])
        assert (paths["info"] / "name").read_text() == "web-0"
        assert os.statvfs(paths["mem"]).f_blocks * os.statvfs(paths["mem"]).f_frsize == 64 * 2**20
        sec = os.statvfs(paths["sec"])
        assert sec.f_blocks * sec.f_frsize == 128 * 2**20
        assert (paths["sec"] / "k").read_text() == "v"
        assert _mount_count(paths["mem"]) == 1
    finally:
        await manager.teardown(UID)
    assert not is_mountpoint(paths["mem"]) and not (tmp_path / "pods" / UID).exists()


async def test_container_mounts(manager: VolumeManager, objects: Objects, tmp_path: Path) -> None:
    objects.configmap("cm", {"app.conf": "x"})
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    (host_dir / "escape").symlink_to("/etc")
    pod = _pod([
        {"name": "cm", "configMap": {"name": "cm"}},
        {"name": "scratch", "emptyDir": {}},
        {"name": "host", "hostPath": {"path": str(host_dir)}},
    ])  # fmt: skip
    pod["status"] = {"podIP": "10.1.0.7", "podIPs": [{"ip": "10.1.0.7"}]}
    paths = await manager.setup(pod)
    container = {
        "name": "c",
        "terminationMessagePath": "/tmp/msg",
        "volumeMounts": [
            {"name": "cm", "mountPath": "/etc/app"},
            {"name": "cm", "mountPath": "/etc/app.conf", "subPath": "app.conf"},
            {"name": "scratch", "mountPath": "/work", "subPathExpr": "$(POD_NAME)/logs"},
            {"name": "host", "mountPath": "/host", "readOnly": True,
             "mountPropagation": "HostToContainer"},
        ],
    }  # fmt: skip
    mounts = manager.container_mounts(pod, container, paths, env=[("POD_NAME", "web-0")], attempt=2)
    pod_dir = manager.root / "pods" / UID
    data = os.readlink(paths["cm"] / "..data")
    assert mounts == [
        Mount("/etc/app", str(paths["cm"]), readonly=True),
        Mount("/etc/app.conf", str(paths["cm"] / data / "app.conf"), readonly=True),
        Mount("/work", str(paths["scratch"] / "web-0" / "logs")),
        Mount("/host", str(host_dir), readonly=True, propagation="rslave"),
        Mount("/etc/hosts", str(pod_dir / "etc-hosts")),
        Mount("/tmp/msg", str(pod_dir / "containers" / "c" / "2")),
    ]
    assert (paths["scratch"] / "web-0" / "logs").is_dir()
    assert "10.1.0.7\tweb-0\n" in (pod_dir / "etc-hosts").read_text()
    log = pod_dir / "containers" / "c" / "2"
    assert _mode(log) == 0o666 and read_termination_message(log) == ""
    log.write_bytes(b"x" * 5000 + b"tail")
    assert read_termination_message(log) == ("x" * 5000 + "tail")[-4096:]
    assert read_termination_message(pod_dir / "nothing") is None

    def fails(volume_mount: dict[str, Any], env: list[tuple[str, str]] | None = None) -> str:
        with pytest.raises(ContainerMountError) as caught:
            manager.container_mounts(pod, {"name": "c", "volumeMounts": [volume_mount]}, paths,
                                     env=env or [])  # fmt: skip
        return str(caught.value)

    assert fails({"name": "nope", "mountPath": "/x"}) == (
        'cannot find volume "nope" to mount into container "c"'
    )
    assert fails({"name": "scratch", "mountPath": "/x", "subPath": "/abs"}) == (
        "error SubPath `/abs` must not be an absolute path"
    )
    assert fails({"name": "scratch", "mountPath": "/x", "subPath": "a/../../b"}) == (
        "unable to provision SubPath `a/../../b`: must not contain '..'"
    )
    assert fails(
        {"name": "scratch", "mountPath": "/x", "subPathExpr": "$(A)/$(B)"}, [("A", "")]
    ) == ("missing value for A, B")
    assert fails({"name": "host", "mountPath": "/x", "subPath": "escape"}) == (
        'failed to prepare subPath for volumeMount "host" of container "c"'
    )
    assert fails({"name": "host", "mountPath": "/x", "mountPropagation": "Sideways"}) == (
        'invalid MountPropagation mode: "Sideways"'
    )


async def test_hosts_mount_rules(manager: VolumeManager, tmp_path: Path) -> None:
    pod = _pod([{"name": "etc", "emptyDir": {}}])
    paths = await manager.setup(pod)
    plain = manager.container_mounts(pod, {"name": "c"}, paths)
    assert [m.container_path for m in plain] == ["/dev/termination-log"]
    over = {"name": "c", "volumeMounts": [{"name": "etc", "mountPath": "/etc/hosts"}]}
    mounted = manager.container_mounts(pod, over, paths, pod_ips=["10.0.0.1"])
    assert [m.container_path for m in mounted] == ["/etc/hosts", "/dev/termination-log"]
    assert mounted[0].host_path == str(paths["etc"])

    node_hosts = tmp_path / "node-hosts"
    node_hosts.write_text("127.0.0.1\tnode\n")
    host_manager = VolumeManager(manager.root, manager._getter, node_hosts=node_hosts,
                                 use_tmpfs=False)  # fmt: skip
    host_pod = _pod([], hostNetwork=True, hostAliases=[{"ip": "1.2.3.4", "hostnames": ["a", "b"]}])
    mounts = host_manager.container_mounts(host_pod, {"name": "c"}, {})
    assert _read(mounts[0].host_path) == (
        "# Kubernetes-managed hosts file (host network).\n127.0.0.1\tnode\n"
        "\n# Entries added by HostAliases.\n1.2.3.4\ta\tb\n"
    )


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another group needs root")
async def test_fs_group_ownership(manager: VolumeManager, objects: Objects) -> None:
    objects.secret("sec", {"k": b"v1"})

    async def issue(*_: Any) -> str:
        return "jwt"

    manager._token_requester = issue
    pod = _pod(
        [
            {"name": "scratch", "emptyDir": {}},
            {"name": "sec", "secret": {"secretName": "sec", "defaultMode": 0o400}},
            {"name": "tok", "projected": {"sources": [
                {"serviceAccountToken": {"path": "token"}}]}},
        ],
        securityContext={"fsGroup": 4321},
    )  # fmt: skip
    paths = await manager.setup(pod)
    scratch = paths["scratch"].stat()
    assert scratch.st_gid == 4321 and _mode(paths["scratch"]) == 0o2777
    assert (paths["sec"] / "k").stat().st_gid == 4321 and _mode(paths["sec"] / "k") == 0o440
    data = paths["sec"] / os.readlink(paths["sec"] / "..data")
    assert data.stat().st_gid == 4321 and _mode(data) == 0o2755
    assert (paths["sec"] / "k").lstat().st_gid == 4321  # the link itself too
    assert _mode(paths["tok"] / "token") == 0o640

    objects.secret("sec", {"k": b"v2", "new": b"n"})
    await manager.setup(pod)
    for name in ("k", "new"):
        assert (paths["sec"] / name).stat().st_gid == 4321
        assert _mode(paths["sec"] / name) == 0o440
    assert (paths["sec"] / "k").read_bytes() == b"v2"
