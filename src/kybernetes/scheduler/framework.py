"""The scheduling framework: status codes, cycle state, one protocol per extension point.

This mirrors Kubernetes' `pkg/scheduler/framework` (Kubernetes 1.32) with one deliberate
change: Filter and Score are evaluated over *all* nodes of a `NodeSnapshot` at once.

- a Filter plugin returns a `FilterResult`: a boolean mask over the snapshot's slots
  (True = the node passes) plus `Rejection`s, each a failure reason with the mask of
  nodes it applies to. A node may carry several reasons from one plugin (NodeResourcesFit
  reports every insufficient resource), and, as in Kubernetes, only the reasons of the
  first plugin that rejects a node are kept (the framework masks later plugins' reasons).
- a Score plugin returns an int64 array with one score per requested slot index; a
  NormalizeScore extension maps those scores into [0, MAX_NODE_SCORE] in place of
  Kubernetes' per-node `NodeScoreList`.

Plugin calls are pure functions of (cycle state, pod, snapshot) and must not mutate the
snapshot; they run on one thread per scheduling cycle. Only PreBind and Bind may block
(they talk to the API server) and so are async. Errors are reported as `Status` with
`Code.ERROR`, never raised, except for programming errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, unique
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from kybernetes.scheduler.podinfo import PodInfo
    from kybernetes.scheduler.snapshot import NodeSnapshot

Mask = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.int64]
Indices = npt.NDArray[np.intp]

MAX_NODE_SCORE: Final = 100
MIN_NODE_SCORE: Final = 0


@unique
class Code(IntEnum):
    """Kubernetes' status codes, a closed set (`framework.Code`)."""

    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3
    WAIT = 4
    SKIP = 5
    PENDING = 6


_CODE_NAMES: Final = {
    Code.SUCCESS: "Success",
    Code.ERROR: "Error",
    Code.UNSCHEDULABLE: "Unschedulable",
    Code.UNSCHEDULABLE_AND_UNRESOLVABLE: "UnschedulableAndUnresolvable",
    Code.WAIT: "Wait",
    Code.SKIP: "Skip",
    Code.PENDING: "Pending",
}


@dataclass(frozen=True, slots=True)
class Status:
    """The result of one plugin call: a code, human-readable reasons, the plugin's name."""

    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @property
    def is_success(self) -> bool:
        return self.code is Code.SUCCESS

    @property
    def is_rejected(self) -> bool:
        """Unschedulable, UnschedulableAndUnresolvable or Pending (`IsRejected`)."""
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE, Code.PENDING)

    @property
    def message(self) -> str:
        """The reasons joined by ", " (`Status.Message`)."""
        return ", ".join(self.reasons)

    def __str__(self) -> str:
        return (
            f"{_CODE_NAMES[self.code]}: {self.message}" if self.reasons else _CODE_NAMES[self.code]
        )


SUCCESS: Final = Status()
SKIP: Final = Status(Code.SKIP)


class CycleState:
    """Per-cycle scratch space shared by the plugins of one scheduling cycle.

    Keys are plugin-chosen strings (by convention "PreFilter" + plugin name). Not
    thread-safe: one cycle, one thread. `read` raises KeyError for a missing key.
    """

    __slots__ = ("_data", "skip_filter_plugins", "skip_score_plugins")

    def __init__(self) -> None:
        self._data: dict[str, object] = {}
        self.skip_filter_plugins: set[str] = set()
        self.skip_score_plugins: set[str] = set()

    def write(self, key: str, value: object) -> None:
        self._data[key] = value

    def read(self, key: str) -> object:
        return self._data[key]

    def get(self, key: str, default: object = None) -> object:
        return self._data.get(key, default)


@dataclass(frozen=True, slots=True)
class Rejection:
    """One failure reason and the slots it applies to."""

    reason: str
    nodes: Mask
    code: Code = Code.UNSCHEDULABLE


@dataclass(frozen=True, slots=True)
class FilterResult:
    """A filter's verdict over every slot of the snapshot (absent slots are ignored)."""

    feasible: Mask
    rejections: tuple[Rejection, ...] = ()

    def __post_init__(self) -> None:
        """Results may be cached and shared, so their arrays are made read-only."""
        self.feasible.flags.writeable = False
        for rejection in self.rejections:
            rejection.nodes.flags.writeable = False

    @classmethod
    def from_rejections(cls, size: int, rejections: list[Rejection]) -> FilterResult:
        """Feasible = the slots no rejection mentions."""
        feasible = np.ones(size, dtype=np.bool_)
        for rejection in rejections:
            feasible &= ~rejection.nodes
        return cls(feasible, tuple(rejections))


@dataclass(frozen=True, slots=True)
class QueuedPodInfo:
    """A pod waiting in the scheduling queue (`framework.QueuedPodInfo`)."""

    pod: PodInfo
    timestamp: float
    attempts: int = 0
    initial_timestamp: float = 0.0  # when the pod first entered the queue


@runtime_checkable
class Plugin(Protocol):
    """Every plugin has a unique, stable name (the one used in configuration)."""

    name: str


@runtime_checkable
class PreEnqueuePlugin(Plugin, Protocol):
    def pre_enqueue(self, pod: PodInfo) -> Status:
        """Whether the pod may enter the active queue; anything but Success keeps it out.

        Must be cheap: it runs on every pod add/update event.
        """


@runtime_checkable
class QueueSortPlugin(Plugin, Protocol):
    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        """A strict weak order of queued pods; exactly one is enabled per scheduler."""


@runtime_checkable
class PreFilterPlugin(Plugin, Protocol):
    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> Status:
        """Pre-compute per-pod state into `state`; runs once per cycle before Filter.

        Skip marks this plugin's Filter as not needed for the pod. Unschedulable or
        UnschedulableAndUnresolvable rejects the pod on every node (its message becomes
        the FailedScheduling message); Error aborts the cycle.
        """


@runtime_checkable
class FilterPlugin(Plugin, Protocol):
    def filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> FilterResult:
        """Which slots can run the pod, and why the others cannot.

        Must be a pure function of its arguments; the mask has `snapshot.capacity`
        entries, values for absent slots are ignored.
        """


@runtime_checkable
class PostFilterPlugin(Plugin, Protocol):
    def post_filter(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, candidates: Mask
    ) -> tuple[str | None, Status]:
        """Runs when no node is feasible (e.g. preemption): a nominated node or None.

        `candidates` marks the nodes rejected with Unschedulable only, where evicting
        pods might help (UnschedulableAndUnresolvable nodes are excluded). Success ends
        PostFilter; every status message is appended to the FailedScheduling message.
        """


@runtime_checkable
class PreScorePlugin(Plugin, Protocol):
    def pre_score(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, nodes: Indices
    ) -> Status:
        """Pre-compute per-pod scoring state for the feasible `nodes`; Skip skips Score."""


@runtime_checkable
class ScorePlugin(Plugin, Protocol):
    def score(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, nodes: Indices
    ) -> Scores:
        """One raw int64 score per entry of `nodes` (feasible slot indices)."""


@runtime_checkable
class NormalizeScorePlugin(ScorePlugin, Protocol):
    def normalize_score(self, state: CycleState, pod: PodInfo, scores: Scores) -> Scores:
        """Map raw scores into [MIN_NODE_SCORE, MAX_NODE_SCORE]; may reuse the array."""


@runtime_checkable
class ReservePlugin(Plugin, Protocol):
    def reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status:
        """Claim resources for the pod on the chosen node; failure triggers unreserve."""

    def unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        """Undo `reserve`; must be idempotent and may run without a prior reserve."""


@runtime_checkable
class PermitPlugin(Plugin, Protocol):
    def permit(self, state: CycleState, pod: PodInfo, node_name: str) -> tuple[Status, float]:
        """Success, Wait (with a timeout in seconds) or a rejection before binding."""


@runtime_checkable
class PreBindPlugin(Plugin, Protocol):
    async def pre_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status:
        """Prepare the binding (e.g. provision volumes); a failure unreserves the pod."""


@runtime_checkable
class BindPlugin(Plugin, Protocol):
    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status:
        """Bind the pod; Skip passes to the next Bind plugin, the first Success wins."""


@runtime_checkable
class PostBindPlugin(Plugin, Protocol):
    def post_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        """Informational: the pod was bound; must not fail."""


@runtime_checkable
class ProfileAwarePlugin(Plugin, Protocol):
    def attach(self, profile: Any) -> None:
        """Receives the built profile it belongs to (as Kubernetes' plugins receive a
        framework.Handle), e.g. to run the profile's filters again (preemption)."""


PluginFactory = Callable[[Mapping[str, Any]], Plugin]


@dataclass(slots=True)
class Registry:
    """Plugin factories by name; a factory takes the plugin's `args` from configuration."""

    factories: dict[str, PluginFactory] = field(default_factory=dict)

    def register(self, name: str, factory: PluginFactory) -> None:
        """Add a factory; a name registered twice raises ValueError."""
        if name in self.factories:
            raise ValueError(f"a plugin named {name} already exists")
        self.factories[name] = factory

    def new(self, name: str, args: Mapping[str, Any] | None = None) -> Plugin:
        """Instantiate plugin `name`; an unknown name raises KeyError."""
        if name not in self.factories:
            raise KeyError(f"plugin {name!r} does not exist")
        return self.factories[name](args or {})

    def __contains__(self, name: object) -> bool:
        return name in self.factories
