"""The record of the local clusters: DIR/N/cluster.json (what `create` decided) and
DIR/N/processes.json (what the cluster's daemon started).

    cluster.json    {"name", "agents", "runtime", "port", "kubeconfig", "created",
                     "daemon": {"pid", "start"}}
    processes.json  {"<node short name>": {"pid", "start"}, ...}
    stopped.json    ["<node short name>", ...]  nodes held stopped (`stop-node`)

The layout itself (namespaces, addresses, data dirs) is not stored: `plan.plan` derives
it from the name and the agent count. Files are replaced atomically (temporary file,
rename), so a reader never sees a torn record. A cluster's state for `list`:
"running" (daemon and every node process alive), "degraded" (daemon alive, some node
down), "stopped" (no daemon).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .plan import DEFAULT_BASE, ClusterPlan, plan
from .processes import ProcessRef


@dataclass(frozen=True)
class ClusterRecord:
    """A cluster as recorded on disk."""

    name: str
    agents: int
    runtime: str
    port: int
    kubeconfig: str
    created: str = ""
    daemon: ProcessRef | None = None
    processes: dict[str, ProcessRef] = field(default_factory=dict)

    def plan(self, base: Path) -> ClusterPlan:
        return plan(self.name, self.agents, base)

    def state(self, nodes: int) -> str:
        if self.daemon is None or not self.daemon.alive():
            return "stopped"
        up = [p for p in self.processes.values() if p.alive()]
        return "running" if len(up) == nodes else "degraded"


def write_json(path: Path, data: Any) -> None:
    """Atomically replaces `path` with `data` as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _ref(data: Any) -> ProcessRef | None:
    if not isinstance(data, dict) or "pid" not in data:
        return None
    return ProcessRef(int(data["pid"]), int(data.get("start", 0)))


def save(record: ClusterRecord, base: Path) -> None:
    """Writes cluster.json (not processes.json, which belongs to the daemon)."""
    data: dict[str, Any] = {
        "name": record.name,
        "agents": record.agents,
        "runtime": record.runtime,
        "port": record.port,
        "kubeconfig": record.kubeconfig,
        "created": record.created,
    }
    if record.daemon is not None:
        data["daemon"] = {"pid": record.daemon.pid, "start": record.daemon.start}
    write_json(base / record.name / "cluster.json", data)


def save_processes(directory: Path, processes: dict[str, ProcessRef]) -> None:
    """The daemon's record of the node processes it started."""
    data = {name: {"pid": p.pid, "start": p.start} for name, p in processes.items()}
    write_json(directory / "processes.json", data)


def load(name: str, base: Path = DEFAULT_BASE) -> ClusterRecord | None:
    """The record of cluster `name`, None if there is none. ValueError if corrupt."""
    directory = base / name
    try:
        data = json.loads((directory / "cluster.json").read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise ValueError(f"{directory / 'cluster.json'}: {e}") from None
    try:
        procs = json.loads((directory / "processes.json").read_text())
    except (OSError, ValueError):
        procs = {}
    processes = {k: r for k, v in procs.items() if (r := _ref(v)) is not None}
    return ClusterRecord(
        name=str(data["name"]),
        agents=int(data["agents"]),
        runtime=str(data.get("runtime", "")),
        port=int(data.get("port", 0)),
        kubeconfig=str(data.get("kubeconfig", "")),
        created=str(data.get("created", "")),
        daemon=_ref(data.get("daemon")),
        processes=processes,
    )


def held_stopped(directory: Path) -> set[str]:
    """The nodes `kyb cluster stop-node` holds stopped (DIR/N/stopped.json)."""
    try:
        return set(json.loads((directory / "stopped.json").read_text()))
    except (OSError, ValueError, TypeError):
        return set()


def hold_stopped(directory: Path, nodes: set[str]) -> None:
    write_json(directory / "stopped.json", sorted(nodes))


def names(base: Path = DEFAULT_BASE) -> list[str]:
    """The clusters recorded under `base`, sorted."""
    try:
        return sorted(p.name for p in base.iterdir() if (p / "cluster.json").is_file())
    except FileNotFoundError:
        return []
