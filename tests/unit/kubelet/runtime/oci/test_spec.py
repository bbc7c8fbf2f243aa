"""The OCI spec builder (pure): Kubernetes' command/args rules, env merging,
capabilities, mounts, namespaces, resources, users from the image's /etc/passwd."""

from __future__ import annotations

from pathlib import Path

import pytest

from kybernetes.kubelet.runtime.interface import (
    ContainerConfig,
    LinuxResources,
    Mount,
    SecurityContext,
)
from kybernetes.kubelet.runtime.oci.cgroups import swap_controllable
from kybernetes.kubelet.runtime.oci.spec import (
    DEFAULT_CAPS,
    DEFAULT_PATH,
    MASKED_PATHS,
    SandboxView,
    SpecError,
    build_spec,
    capabilities,
    process_args,
    process_env,
)
from kybernetes.kubelet.runtime.oci.users import User, UserError, resolve_user

IMAGE = {"Entrypoint": ["/entry"], "Cmd": ["serve", "--port=80"], "Env": ["PATH=/bin", "A=image"]}
VIEW = SandboxView(
    namespaces={"net": "/s/ns/net", "ipc": "/s/ns/ipc", "uts": "/s/ns/uts"},
    files_dir=Path("/s/files"),
    hostname="web-0",
    sysctls={"net.ipv4.ip_unprivileged_port_start": "0"},
)


def config(**kw: object) -> ContainerConfig:
    return ContainerConfig(name="c", image="busybox", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("command", "args", "image", "argv"),
    [
        ((), (), IMAGE, ["/entry", "serve", "--port=80"]),
        (("sh",), (), IMAGE, ["sh"]),  # command drops the image's Cmd too
        ((), ("x", "y"), IMAGE, ["/entry", "x", "y"]),
        (("sh", "-c"), ("echo",), IMAGE, ["sh", "-c", "echo"]),
        ((), (), {"Cmd": ["sh"]}, ["sh"]),
    ],
)
def test_process_args(
    command: tuple[str, ...], args: tuple[str, ...], image: dict[str, list[str]], argv: list[str]
) -> None:
    assert process_args(config(command=command, args=args), image) == argv


def test_no_command_at_all() -> None:
    with pytest.raises(SpecError, match="no command specified"):
        process_args(config(), {"Env": []})


def test_env_order_and_override() -> None:
    env = process_env("web-0", ["PATH=/bin", "A=image", "B=b=b"], [("A", "pod"), ("C", "")])
    assert env == ["HOSTNAME=web-0", "PATH=/bin", "A=pod", "B=b=b", "C="]
    assert process_env("h", [], [])[1] == f"PATH={DEFAULT_PATH}"


def test_capabilities() -> None:
    caps = capabilities(config(), 0)
    assert caps["bounding"] == list(DEFAULT_CAPS) == caps["effective"] == caps["permitted"]
    sc = SecurityContext(add_capabilities=("NET_ADMIN",), drop_capabilities=("MKNOD", "kill"))
    caps = capabilities(config(security_context=sc), 0)["bounding"]
    assert "CAP_NET_ADMIN" in caps and "CAP_MKNOD" not in caps and "CAP_KILL" not in caps
    sc = SecurityContext(add_capabilities=("CHOWN",), drop_capabilities=("ALL",))
    assert capabilities(config(security_context=sc), 0)["bounding"] == ["CAP_CHOWN"]
    sc = SecurityContext(add_capabilities=("ALL",), drop_capabilities=("SYS_ADMIN",))
    caps = capabilities(config(security_context=sc), 0)["bounding"]
    assert "CAP_SYS_ADMIN" not in caps and "CAP_BPF" in caps
    non_root = capabilities(config(), 1000)
    assert non_root["bounding"] == list(DEFAULT_CAPS) and non_root["effective"] == []


def test_spec_defaults() -> None:
    spec = build_spec(
        config(command=("sh",), working_dir=""), IMAGE, VIEW, User(0, 0), "/kubepods/podU/C"
    )
    assert spec["process"]["cwd"] == "/" and spec["process"]["user"] == {"uid": 0, "gid": 0}
    assert spec["root"] == {"path": "rootfs", "readonly": False}
    linux = spec["linux"]
    assert linux["cgroupsPath"] == "/kubepods/podU/C"
    assert linux["namespaces"] == [
        {"type": "mount"},
        {"type": "pid"},
        {"type": "network", "path": "/s/ns/net"},
        {"type": "ipc", "path": "/s/ns/ipc"},
        {"type": "uts", "path": "/s/ns/uts"},
    ]
    assert linux["maskedPaths"] == list(MASKED_PATHS) and "/proc/sys" in linux["readonlyPaths"]
    assert linux["resources"] == {"devices": [{"allow": False, "access": "rwm"}]}
    assert linux["sysctl"] == {"net.ipv4.ip_unprivileged_port_start": "0"}
    mounts = {m["destination"]: m for m in spec["mounts"]}
    assert mounts["/etc/hosts"]["source"] == "/s/files/hosts"
    assert mounts["/dev/shm"]["source"] == "/s/files/shm"
    assert "ro" in mounts["/sys/fs/cgroup"]["options"]
    assert spec["process"]["noNewPrivileges"] is False and "oomScoreAdj" not in spec["process"]


def test_spec_from_pod_settings() -> None:
    c = config(
        command=("sh",),
        working_dir="/work",
        tty=True,
        mounts=(
            Mount("/data", "/host/data", readonly=True),
            Mount("/etc/hosts", "/kubelet/etc-hosts"),
        ),
        resources=LinuxResources(
            cpu_period=100000,
            cpu_quota=50000,
            cpu_shares=512,
            memory_limit_in_bytes=1 << 26,
            oom_score_adj=999,
        ),
        security_context=SecurityContext(
            readonly_rootfs=True, no_new_privs=True, supplemental_groups=(5,)
        ),
    )
    host = SandboxView(
        namespaces={"net": None, "ipc": None, "uts": None},
        files_dir=Path("/s/files"),
        hostname="node",
        sysctls={},
    )
    spec = build_spec(c, IMAGE, host, User(1000, 1000, (5,)), "/p/C")
    p = spec["process"]
    assert (p["cwd"], p["terminal"], p["noNewPrivileges"], p["oomScoreAdj"]) == (
        "/work",
        True,
        True,
        999,
    )
    assert p["user"] == {"uid": 1000, "gid": 1000, "additionalGids": [5]}
    assert spec["root"]["readonly"] is True
    swap = {"swap": 1 << 26} if swap_controllable() else {}
    assert spec["linux"]["resources"]["memory"] == {"limit": 1 << 26, **swap}
    assert spec["linux"]["resources"]["cpu"] == {"shares": 512, "quota": 50000, "period": 100000}
    assert spec["linux"]["namespaces"] == [{"type": "mount"}, {"type": "pid"}]
    mounts = {m["destination"]: m for m in spec["mounts"]}
    assert mounts["/data"] == {
        "destination": "/data",
        "type": "bind",
        "source": "/host/data",
        "options": ["rbind", "rprivate", "ro"],
    }
    assert mounts["/etc/hosts"]["source"] == "/kubelet/etc-hosts"
    assert [m["destination"] for m in spec["mounts"]].count("/etc/hosts") == 1
    assert mounts["/dev/shm"]["source"] == "/dev/shm"  # the host's IPC namespace


def test_privileged() -> None:
    c = config(
        command=("sh",), security_context=SecurityContext(privileged=True, no_new_privs=True)
    )
    spec = build_spec(c, IMAGE, VIEW, User(0, 0), "/p/C")
    assert "CAP_SYS_ADMIN" in spec["process"]["capabilities"]["bounding"]
    assert spec["process"]["noNewPrivileges"] is False
    assert "maskedPaths" not in spec["linux"] and "readonlyPaths" not in spec["linux"]
    assert spec["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    assert any(d["path"] == "/dev/null" for d in spec["linux"]["devices"])
    sys_mount = next(m for m in spec["mounts"] if m["destination"] == "/sys")
    assert "ro" not in sys_mount["options"]


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text(
        "root:x:0:0::/root:/bin/sh\nweb:x:33:34::/var/www:/bin/false\n"
    )
    (tmp_path / "etc/group").write_text(
        "root:x:0:\nwww:x:34:\nstaff:x:50:web,other\nlog:x:60:web\n"
    )
    return tmp_path


@pytest.mark.parametrize(
    ("image_user", "sc", "expected"),
    [
        ("", SecurityContext(), User(0, 0, (), "root")),
        ("web", SecurityContext(), User(33, 34, (50, 60), "web")),
        ("web:log", SecurityContext(), User(33, 60, (50,), "web")),
        ("33", SecurityContext(), User(33, 34, (50, 60), "web")),
        ("1234:99", SecurityContext(), User(1234, 99)),
        ("web", SecurityContext(run_as_user=2000), User(2000, 0)),
        (
            "",
            SecurityContext(run_as_user=33, run_as_group=7, supplemental_groups=(8,)),
            User(33, 7, (8, 50, 60), "web"),
        ),
    ],
)
def test_resolve_user(rootfs: Path, image_user: str, sc: SecurityContext, expected: User) -> None:
    user = resolve_user(rootfs, image_user, sc)
    assert (user.uid, user.gid, sorted(user.additional_gids), user.name) == (
        expected.uid,
        expected.gid,
        sorted(expected.additional_gids),
        expected.name,
    )


def test_unknown_user_name(rootfs: Path) -> None:
    with pytest.raises(UserError, match="unable to find user nginx"):
        resolve_user(rootfs, "nginx", SecurityContext())
    with pytest.raises(UserError, match="unable to find group wheel"):
        resolve_user(rootfs, "web:wheel", SecurityContext())
