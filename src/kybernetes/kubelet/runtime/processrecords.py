"""The process runtime's records: what a container is made of, as JSON on disk.

`container_record` turns a ContainerConfig (and the image's config, when the node's
ImageStore has it) into the record the runtime keeps in ROOT/containers/ID/
container.json: the argv to run, the exact environment, the stop signal, the log path
and the working directory as asked (the runtime resolves it on the host). `restore`
rebuilds the interface's config dataclasses from their JSON. Pure functions but for
`write_json`, which replaces a file atomically.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
from pathlib import Path
from typing import Any, TypeVar

from .interface import (
    ContainerConfig,
    ContainerRuntimeError,
    DNSConfig,
    LinuxResources,
    Mount,
    PodSandboxConfig,
    PortMapping,
    SecurityContext,
)
from .processimages import synthetic_id

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
T = TypeVar("T")


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


_NESTED: dict[str, type[Any]] = {
    "dns_config": DNSConfig,
    "port_mappings": PortMapping,
    "mounts": Mount,
    "resources": LinuxResources,
    "security_context": SecurityContext,
}


def restore(cls: type[T], raw: dict[str, Any]) -> T:
    """Rebuilds a config dataclass from its `dataclasses.asdict` JSON (lists as tuples)."""

    def value(name: str, item: Any) -> Any:
        if isinstance(item, list):
            return tuple(value(name, i) for i in item)
        if isinstance(item, dict) and name in _NESTED:
            return restore(_NESTED[name], item)
        return item

    return cls(**{name: value(name, item) for name, item in raw.items()})


def stop_signal(config: dict[str, Any]) -> signal.Signals:
    """The image's StopSignal (`SIGQUIT`, `QUIT` or `3`), SIGTERM when unset/unknown."""
    raw = str(config.get("StopSignal") or "SIGTERM").upper()
    if raw.isdigit():
        try:
            return signal.Signals(int(raw))
        except ValueError:
            return signal.SIGTERM
    name = raw if raw.startswith("SIG") else f"SIG{raw}"
    return signal.Signals.__members__.get(name, signal.SIGTERM)


def container_record(
    sandbox_id: str,
    config: ContainerConfig,
    sandbox_config: PodSandboxConfig,
    image_id: str,
    image: dict[str, Any],
) -> dict[str, Any]:
    """The record of a new container; `image` is the OCI config section of image
    `image_id` ({} and "" when unknown). Raises ContainerRuntimeError
    (`CreateContainerError`) when there is nothing to run."""
    argv = list(config.command) or list(image.get("Entrypoint") or [])
    if not config.command:
        argv += list(config.args) or list(image.get("Cmd") or [])
    else:
        argv += list(config.args)
    if not argv:
        raise ContainerRuntimeError("CreateContainerError", "no command specified")
    env = dict(config.envs)
    env.setdefault("PATH", DEFAULT_PATH)
    log_path = ""
    if sandbox_config.log_directory and config.log_path:
        log_path = os.path.join(sandbox_config.log_directory, config.log_path)
    return {
        "sandbox_id": sandbox_id,
        "config": dataclasses.asdict(config),
        "created_at": time.time_ns(),
        "image_ref": image_id or synthetic_id(config.image),
        "argv": argv,
        "env": sorted(env.items()),
        "stop_signal": stop_signal(image).name,
        "log_path": log_path,
        "cwd": config.working_dir or str(image.get("WorkingDir") or ""),
    }
