"""The nftables applier (the default proxy mode): a `RuleSet` in the table `ip kube-proxy`.

The layout is kube-proxy's nftables mode:
- base chains `nat-prerouting`/`nat-output` jump to `services`, which looks the packet
  up in the verdict maps `service-ips` (`ip . proto . port`, ClusterIPs and external
  IPs) and `service-nodeports` (`proto . port`, on `fib daddr type local` addresses
  but 127.0.0.0/8, or on `@nodeport-ips` when `--nodeport-addresses` is given);
- per service port: `service-HASH-ns/name/proto/port` (cluster endpoints, with the
  masquerade rule for off-cluster clients), `local-HASH-...` (node-local endpoints),
  `external-HASH-...` (NodePort/external IPs: masquerade, Local-policy short-circuits),
  all balancing with `numgen random` (see `_dispatch`) over `endpoint-HASH-...__IP/PORT`
  chains that mark hairpin traffic for masquerade and DNAT; ClientIP affinity keeps
  one dynamic `affinity-HASH-...` set (with the timeout) per endpoint;
- `filter-*` chains (priority -110, before DNAT) send new connections to services
  without endpoints through `no-endpoint-services`/`no-endpoint-nodeports` to
  `reject-chain` (or drop, for Local policies with only remote endpoints), and after
  DNAT reject what still targets a ClusterIP (wrong port) and drop unallocated ones;
- `nat-postrouting` jumps to `masquerading`, which SNATs packets marked 0x4000.

Incremental: the applier remembers what it applied. `plan(rules)` yields one `nft -f`
transaction that, per changed service port only, deletes its old map elements,
flushes its old chains, deletes the ones no longer wanted, re-adds chains/rules/sets
and adds the new elements: O(changed) text and kernel work (the `nft` program itself
still reads the table's chain and set lists before every transaction, which is
O(table); that, not the transaction, dominates one change at 10k Services). The first
sync, a sync
after a failure, a change of `NodeConfig`, and `plan(rules, full=True)` (the periodic
resync) rewrite the table atomically instead (delete + recreate in one transaction,
which also repairs drift; affinity memory starts over). Only this table is touched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .command import Runner
from .rules import Endpoint, NodeConfig, RuleSet, ServicePort, hash_name

TABLE = "ip kube-proxy"
MASQ_MARK = "0x4000"
CHAIN_NAME_MAX = 200


def _name(prefix: str, base: str) -> str:
    name = f"{prefix}{hash_name(base, 8)}-{base}"
    return name if len(name) <= CHAIN_NAME_MAX else name[: CHAIN_NAME_MAX - 3] + "..."


def _endpoint_base(sp: ServicePort, ep: Endpoint) -> str:
    return f"{sp.name}__{ep.ip}/{ep.port}"


@dataclass(frozen=True, slots=True)
class PortObjects:
    """The nftables objects of one service port: affinity sets (name → timeout),
    chains (name → rules, endpoint chains first) and verdict-map elements."""

    sets: Mapping[str, int]
    chains: Mapping[str, tuple[str, ...]]
    elements: tuple[tuple[str, str, str], ...]  # (map, key, verdict)

    @property
    def rule_count(self) -> int:
        return sum(len(rules) for rules in self.chains.values())


def _dispatch(sp: ServicePort, eps: tuple[Endpoint, ...]) -> list[str]:
    """Rules choosing an endpoint: affinity lookups, then a uniform random pick.

    Endpoint i of n is taken with probability 1/(n-i) once 0..i-1 were not (so each
    with 1/n), as iptables' `statistic` chains do: kube-proxy's one-rule `numgen random
    mod n vmap { ... }` needs an anonymous set per chain, and the kernel names those
    by scanning every set of the table, which makes 10k services quadratic to load.
    """
    chains = [_name("endpoint-", _endpoint_base(sp, ep)) for ep in eps]
    rules = []
    if sp.affinity_seconds:
        eps_sets = [_name("affinity-", _endpoint_base(sp, ep)) for ep in eps]
        rules += [f"ip saddr @{s} goto {c}" for s, c in zip(eps_sets, chains, strict=True)]
    n = len(chains)
    rules += [f"numgen random mod {n - i} 0 goto {c}" for i, c in enumerate(chains[:-1])]
    rules.append(f"goto {chains[-1]}")
    return rules


def port_objects(sp: ServicePort, node: NodeConfig) -> PortObjects:
    """The objects programming `sp` (pure)."""
    sets: dict[str, int] = {}
    chains: dict[str, tuple[str, ...]] = {}
    used: dict[Endpoint, None] = {}
    cluster = _name("service-", sp.name) if sp.uses_cluster_endpoints and sp.endpoints else ""
    local = _name("local-", sp.name) if sp.uses_local_endpoints and sp.local_endpoints else ""
    if cluster:
        used.update(dict.fromkeys(sp.endpoints))
    if local:
        used.update(dict.fromkeys(sp.local_endpoints))
    for ep in used:
        base = _endpoint_base(sp, ep)
        rules = [f"ip saddr {ep.ip} jump mark-for-masquerade"]
        if sp.affinity_seconds:
            affinity = _name("affinity-", base)
            sets[affinity] = sp.affinity_seconds
            rules.append(f"update @{affinity} {{ ip saddr }}")
        rules.append(f"meta l4proto {sp.protocol} dnat to {ep.ip}:{ep.port}")
        chains[_name("endpoint-", base)] = tuple(rules)
    if cluster:
        match = f"ip daddr {sp.cluster_ip} {sp.protocol} dport {sp.port}"
        masq = []
        if node.masquerade_all:
            masq = [f"{match} jump mark-for-masquerade"]
        elif node.cluster_cidr:
            masq = [f"{match} ip saddr != {node.cluster_cidr} jump mark-for-masquerade"]
        chains[cluster] = (*masq, *_dispatch(sp, sp.endpoints))
    if local:
        chains[local] = tuple(_dispatch(sp, sp.local_endpoints))
    external = ""
    if sp.has_external and sp.external_endpoints:
        external = _name("external-", sp.name)
        if not sp.external_local:
            rules = ["jump mark-for-masquerade", f"goto {cluster}"]
        else:
            rules = []
            if cluster and node.cluster_cidr:
                rules.append(f"ip saddr {node.cluster_cidr} goto {cluster}")
            if cluster:
                rules.append("fib saddr type local jump mark-for-masquerade")
                rules.append(f"fib saddr type local goto {cluster}")
            rules.append(f"goto {local}")
        chains[external] = tuple(rules)
    elements = []
    key = f"{sp.cluster_ip} . {sp.protocol} . {sp.port}"
    if sp.internal_endpoints:
        elements.append(("service-ips", key, f"goto {local if sp.internal_local else cluster}"))
    else:
        elements.append(("no-endpoint-services", key, _no_endpoints(sp.internal_no_endpoints)))
    rejected = _no_endpoints(sp.external_no_endpoints)
    for ip in sp.external_ips:
        key = f"{ip} . {sp.protocol} . {sp.port}"
        if external:
            elements.append(("service-ips", key, f"goto {external}"))
        else:
            elements.append(("no-endpoint-services", key, rejected))
    if sp.node_port:
        key = f"{sp.protocol} . {sp.node_port}"
        if external:
            elements.append(("service-nodeports", key, f"goto {external}"))
        else:
            elements.append(("no-endpoint-nodeports", key, rejected))
    return PortObjects(sets, chains, tuple(elements))


def _no_endpoints(action: str) -> str:
    return "goto reject-chain" if action == "reject" else "drop"


def _nodeport_match(node: NodeConfig) -> str:
    if node.nodeport_addresses:
        return "ip daddr @nodeport-ips"
    return "fib daddr type local ip daddr != 127.0.0.0/8"


def base_commands(node: NodeConfig) -> list[str]:
    """The table's fixed part: hooks, helper chains, sets and maps (pure)."""
    t = TABLE
    cmds = [f'add table {t} {{ comment "rules for kube-proxy" ; }}']
    hooks = [
        ("filter-input", "filter", "input", -110),
        ("filter-forward", "filter", "forward", -110),
        ("filter-output", "filter", "output", -110),
        ("filter-output-post-dnat", "filter", "output", -90),
        ("nat-prerouting", "nat", "prerouting", -100),
        ("nat-output", "nat", "output", -100),
        ("nat-postrouting", "nat", "postrouting", 100),
    ]
    for name, kind, hook, priority in hooks:
        cmds.append(f"add chain {t} {name} {{ type {kind} hook {hook} priority {priority} ; }}")
    helpers = [
        "mark-for-masquerade",
        "masquerading",
        "services",
        "service-endpoints-check",
        "nodeport-endpoints-check",
        "cluster-ips-check",
        "reject-chain",
    ]
    cmds += [f"add chain {t} {name}" for name in helpers]
    cmds += [
        f'add set {t} cluster-ips {{ type ipv4_addr ; comment "Active ClusterIPs" ; }}',
        f"add set {t} nodeport-ips {{ type ipv4_addr ; flags interval ; }}",
        f"add map {t} service-ips {{ type ipv4_addr . inet_proto . inet_service : verdict ; }}",
        f"add map {t} service-nodeports {{ type inet_proto . inet_service : verdict ; }}",
        f"add map {t} no-endpoint-services "
        "{ type ipv4_addr . inet_proto . inet_service : verdict ; }",
        f"add map {t} no-endpoint-nodeports {{ type inet_proto . inet_service : verdict ; }}",
    ]
    if node.nodeport_addresses:
        cmds.append(f"add element {t} nodeport-ips {{ {', '.join(node.nodeport_addresses)} }}")
    nodeports = _nodeport_match(node)
    lookup = "meta l4proto . th dport vmap"
    rules = [
        ("filter-input", "ct state new jump nodeport-endpoints-check"),
        ("filter-input", "ct state new jump service-endpoints-check"),
        ("filter-forward", "ct state new jump service-endpoints-check"),
        ("filter-forward", "ct state new jump cluster-ips-check"),
        ("filter-output", "ct state new jump service-endpoints-check"),
        ("filter-output-post-dnat", "ct state new jump cluster-ips-check"),
        ("nat-prerouting", "jump services"),
        ("nat-output", "jump services"),
        ("nat-postrouting", "jump masquerading"),
        ("mark-for-masquerade", f"mark set mark or {MASQ_MARK}"),
        ("masquerading", f"mark and {MASQ_MARK} == 0 return"),
        ("masquerading", f"mark set mark xor {MASQ_MARK}"),
        ("masquerading", "masquerade fully-random"),
        ("services", f"ip daddr . {lookup} @service-ips"),
        ("services", f"{nodeports} {lookup} @service-nodeports"),
        ("service-endpoints-check", f"ip daddr . {lookup} @no-endpoint-services"),
        ("nodeport-endpoints-check", f"{nodeports} {lookup} @no-endpoint-nodeports"),
        ("cluster-ips-check", "ip daddr @cluster-ips reject"),
        ("reject-chain", "reject"),
    ]
    if node.service_cidrs:
        rules.append(("cluster-ips-check", f"ip daddr {{ {', '.join(node.service_cidrs)} }} drop"))
    cmds += [f"add rule {t} {chain} {rule}" for chain, rule in rules]
    return cmds


def _add_commands(objects: PortObjects) -> list[str]:
    t = TABLE
    cmds = [
        f"add set {t} {name} {{ type ipv4_addr ; flags dynamic,timeout ; timeout {seconds}s ; }}"
        for name, seconds in objects.sets.items()
    ]
    cmds += [f"add chain {t} {name}" for name in objects.chains]
    for name, rules in objects.chains.items():
        cmds += [f"add rule {t} {name} {rule}" for rule in rules]
    cmds += [f"add element {t} {m} {{ {key} : {verdict} }}" for m, key, verdict in objects.elements]
    return cmds


def _set_elements(name: str, ips: Iterable[str], verb: str) -> list[str]:
    ips = sorted(ips)
    return [f"{verb} element {TABLE} {name} {{ {', '.join(ips)} }}"] if ips else []


@dataclass(frozen=True, slots=True)
class Plan:
    """One sync's `nft -f` script ("" when nothing changed), whether it rewrites the
    table, the objects of the ports it (re)writes, the ClusterIP reference deltas and
    the ports it removes."""

    script: str
    full: bool
    objects: Mapping[str, PortObjects]
    ip_refs: Counter[str]
    removed: tuple[str, ...] = ()


def _base_rule_count(node: NodeConfig) -> int:
    return sum(1 for cmd in base_commands(node) if cmd.startswith("add rule"))


class NftablesApplier:
    """Programs `RuleSet`s into `ip kube-proxy` through `nft -f` (module docstring)."""

    def __init__(self, run: Runner) -> None:
        self._run = run
        self._node: NodeConfig | None = None
        self._applied: Mapping[str, ServicePort] = {}
        self._objects: dict[str, PortObjects] = {}
        self._ip_refs: Counter[str] = Counter()
        self.rule_count = 0

    def plan(self, rules: RuleSet, *, full: bool = False) -> Plan:
        """The transaction taking the applied state to `rules` (reads, never changes,
        the applier's state)."""
        if full or self._node != rules.node:
            objects = {name: port_objects(sp, rules.node) for name, sp in rules.ports.items()}
            cmds = [f"add table {TABLE}", f"delete table {TABLE}", *base_commands(rules.node)]
            for obj in objects.values():
                cmds += _add_commands(obj)
            refs = Counter(sp.cluster_ip for sp in rules.ports.values())
            cmds += _set_elements("cluster-ips", refs, "add")
            return Plan("\n".join(cmds) + "\n", True, objects, refs)
        old, new = self._applied, rules.ports
        changed = rules.changed_since(old)
        objects = {}
        deletes: list[str] = []
        flushes: list[str] = []
        removals: list[str] = []
        adds: list[str] = []
        delta = Counter[str]()
        for name in sorted(changed):
            before = self._objects.get(name)
            after = port_objects(new[name], rules.node) if name in new else None
            if before is not None:
                delta[old[name].cluster_ip] -= 1
                deletes += [f"delete element {TABLE} {m} {{ {k} }}" for m, k, _ in before.elements]
                flushes += [f"flush chain {TABLE} {c}" for c in before.chains]
                keep_chains = after.chains if after else {}
                keep_sets = after.sets if after else {}
                removals += [
                    f"delete chain {TABLE} {c}" for c in before.chains if c not in keep_chains
                ]
                removals += [
                    f"delete set {TABLE} {s}"
                    for s, timeout in before.sets.items()
                    if keep_sets.get(s) != timeout
                ]
            if after is not None:
                delta[new[name].cluster_ip] += 1
                objects[name] = after
                adds += _add_commands(after)
        added = [ip for ip, n in delta.items() if n > 0 and self._ip_refs[ip] == 0]
        gone = [ip for ip, n in delta.items() if n < 0 and self._ip_refs[ip] + n == 0]
        cmds = [*deletes, *flushes, *removals, *adds]
        cmds += _set_elements("cluster-ips", added, "add")
        cmds += _set_elements("cluster-ips", gone, "delete")
        removed = tuple(name for name in changed if name not in new)
        return Plan("\n".join(cmds) + "\n" if cmds else "", False, objects, delta, removed)

    def _commit(self, rules: RuleSet, plan: Plan) -> None:
        """Records an applied plan, in O(changed) for a partial one."""
        if plan.full:
            self._objects = dict(plan.objects)
            self._ip_refs = Counter(plan.ip_refs)
            self.rule_count = _base_rule_count(rules.node) + sum(
                o.rule_count for o in self._objects.values()
            )
        else:
            for name in plan.removed:
                self.rule_count -= self._objects.pop(name).rule_count
            for name, obj in plan.objects.items():
                before = self._objects.get(name)
                self.rule_count += obj.rule_count - (before.rule_count if before else 0)
                self._objects[name] = obj
            for ip, n in plan.ip_refs.items():
                self._ip_refs[ip] += n
                if self._ip_refs[ip] <= 0:
                    del self._ip_refs[ip]
        self._node = rules.node
        self._applied = rules.ports

    async def sync(self, rules: RuleSet, *, full: bool = False) -> Plan:
        """Makes the table program `rules` and answers what it did; CommandError if
        `nft` refuses (the next sync then rewrites the whole table). `rules.ports`
        must not be mutated afterwards (it is kept as the applied state)."""
        plan = self.plan(rules, full=full)
        if plan.script:
            try:
                await self._run(["nft", "-f", "/dev/stdin"], plan.script.encode())
            except Exception:
                self._node = None  # unknown state: the next sync is a full one
                raise
        self._commit(rules, plan)
        return plan

    async def cleanup(self) -> None:
        """Deletes the table (nothing else exists); idempotent."""
        script = f"add table {TABLE}\ndelete table {TABLE}\n"
        await self._run(["nft", "-f", "/dev/stdin"], script.encode())
        self._node = None
        self._applied, self._objects, self._ip_refs = {}, {}, Counter()
