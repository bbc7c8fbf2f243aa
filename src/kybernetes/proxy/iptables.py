"""The iptables applier (`--proxy-mode iptables`): a `RuleSet` as kube-proxy's classic chains.

nat table: PREROUTING/OUTPUT jump to `KUBE-SERVICES`, which matches each
ClusterIP/external IP and port (`KUBE-SVC-HASH` or `KUBE-EXT-HASH`) and, as its last
rule, sends local destinations (all local addresses but 127.0.0.0/8, or the
`--nodeport-addresses` CIDRs) to `KUBE-NODEPORTS`. `KUBE-SVC-*` (cluster endpoints)
and `KUBE-SVL-*` (node-local ones) pick a `KUBE-SEP-*` with `-m statistic --mode random
--probability 1/(n-i)` (after `-m recent --rcheck` lookups for ClientIP affinity);
`KUBE-SEP-*` marks hairpin traffic and DNATs (`-m recent --set` for affinity).
`KUBE-MARK-MASQ` sets mark 0x4000, which `KUBE-POSTROUTING` (from POSTROUTING)
masquerades. filter table: `KUBE-SERVICES` (from OUTPUT/FORWARD) and
`KUBE-EXTERNAL-SERVICES` (from INPUT) REJECT (or DROP) new connections to service
ports without endpoints.

A sync is one `iptables-restore --noflush`: it rewrites the shared entry chains
(`KUBE-SERVICES`, `KUBE-NODEPORTS`, filter's two) in full and, like kube-proxy's
partial syncs, only the chains of the service ports that changed (declaring a chain
flushes it; chains no longer wanted are deleted). A full sync (first, after a failure,
periodic) first reads `iptables-save` to learn which of our chains and jump rules
exist, rewrites every chain, deletes stale ones and inserts missing jumps. Only the
`KUBE-*` chains this module writes, and our jump rules in the built-in chains, are
touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .command import Runner
from .rules import Endpoint, NodeConfig, RuleSet, ServicePort, hash_name

MASQ_MARK = "0x4000"
# (table, built-in chain, our chain, match, comment) of the jump rules we own.
NEW = "-m conntrack --ctstate NEW"
PORTALS = "kubernetes service portals"
JUMPS = (
    ("nat", "PREROUTING", "KUBE-SERVICES", "", PORTALS),
    ("nat", "OUTPUT", "KUBE-SERVICES", "", PORTALS),
    ("nat", "POSTROUTING", "KUBE-POSTROUTING", "", "kubernetes postrouting rules"),
    ("filter", "INPUT", "KUBE-EXTERNAL-SERVICES", NEW,
     "kubernetes externally-visible service portals"),
    ("filter", "OUTPUT", "KUBE-SERVICES", NEW, PORTALS),
    ("filter", "FORWARD", "KUBE-SERVICES", NEW, PORTALS),
)  # fmt: skip
FIXED = {
    "nat": ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ"),
    "filter": ("KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES"),
}
PER_SERVICE_PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-SEP-")


def _jump_rule(chain: str, target: str, match: str, comment: str) -> str:
    return f'-A {chain} {match + " " if match else ""}-m comment --comment "{comment}" -j {target}'


def _ours(chain: str) -> bool:
    return (
        chain in FIXED["nat"] or chain in FIXED["filter"] or chain.startswith(PER_SERVICE_PREFIXES)
    )


@dataclass
class _Tables:
    nat_chains: list[str]
    nat_rules: list[str]
    filter_rules: list[str]


@dataclass(frozen=True, slots=True)
class Fragment:
    """One service port's share: its own nat chains and their rules, its entries in
    the nat `KUBE-SERVICES`/`KUBE-NODEPORTS` chains, and its filter rules."""

    chains: tuple[str, ...]
    own: tuple[str, ...]
    entry: tuple[str, ...]
    filter: tuple[str, ...]


ENTRY_CHAINS = ("-A KUBE-SERVICES ", "-A KUBE-NODEPORTS ")


def fragment(sp: ServicePort, node: NodeConfig) -> Fragment:
    """The iptables rules programming `sp` (pure)."""
    t = _Tables([], [], [])
    _service(sp, node, t)
    return Fragment(
        tuple(t.nat_chains),
        tuple(r for r in t.nat_rules if not r.startswith(ENTRY_CHAINS)),
        tuple(r for r in t.nat_rules if r.startswith(ENTRY_CHAINS)),
        tuple(t.filter_rules),
    )


def _sep(sp: ServicePort, ep: Endpoint) -> str:
    return "KUBE-SEP-" + hash_name(f"{sp.name}__{ep.ip}:{ep.port}", 16)


def _dispatch(chain: str, sp: ServicePort, eps: tuple[Endpoint, ...], out: list[str]) -> None:
    seps = [_sep(sp, ep) for ep in eps]
    if sp.affinity_seconds:
        for sep in seps:
            out.append(
                f"-A {chain} -m recent --name {sep} --mask 255.255.255.255 --rsource "
                f"--rcheck --seconds {sp.affinity_seconds} --reap -j {sep}"
            )
    n = len(seps)
    for i, sep in enumerate(seps):
        if i < n - 1:
            out.append(
                f"-A {chain} -m statistic --mode random --probability {1 / (n - i):.10f} -j {sep}"
            )
        else:
            out.append(f"-A {chain} -j {sep}")


def _service(sp: ServicePort, node: NodeConfig, t: _Tables) -> None:
    p = f"-p {sp.protocol} -m {sp.protocol}"
    h = hash_name(sp.name, 16)
    svc, svl, ext = f"KUBE-SVC-{h}", f"KUBE-SVL-{h}", f"KUBE-EXT-{h}"
    cluster = svc if sp.uses_cluster_endpoints and sp.endpoints else ""
    local = svl if sp.uses_local_endpoints and sp.local_endpoints else ""
    used: dict[Endpoint, None] = {}
    comment = f'-m comment --comment "{sp.name}"'
    if cluster:
        used.update(dict.fromkeys(sp.endpoints))
        t.nat_chains.append(cluster)
        dst = f"-d {sp.cluster_ip}/32 {p} --dport {sp.port}"
        if node.masquerade_all:
            t.nat_rules.append(f"-A {cluster} {dst} -j KUBE-MARK-MASQ")
        elif node.cluster_cidr:
            t.nat_rules.append(f"-A {cluster} ! -s {node.cluster_cidr} {dst} -j KUBE-MARK-MASQ")
        _dispatch(cluster, sp, sp.endpoints, t.nat_rules)
    if local:
        used.update(dict.fromkeys(sp.local_endpoints))
        t.nat_chains.append(local)
        _dispatch(local, sp, sp.local_endpoints, t.nat_rules)
    for ep in used:
        sep = _sep(sp, ep)
        t.nat_chains.append(sep)
        t.nat_rules.append(f"-A {sep} -s {ep.ip}/32 -j KUBE-MARK-MASQ")
        recent = (
            f"-m recent --name {sep} --mask 255.255.255.255 --rsource --set "
            if sp.affinity_seconds
            else ""
        )
        t.nat_rules.append(f"-A {sep} {p} {recent}-j DNAT --to-destination {ep.ip}:{ep.port}")
    cip = f"-d {sp.cluster_ip}/32 {p} --dport {sp.port}"
    if sp.internal_endpoints:
        t.nat_rules.append(
            f"-A KUBE-SERVICES {comment} {cip} -j {local if sp.internal_local else cluster}"
        )
    else:
        t.filter_rules.append(
            f"-A KUBE-SERVICES {comment} {cip} -j {_no_endpoints(sp.internal_no_endpoints)}"
        )
    externals = [("KUBE-SERVICES", f"-d {ip}/32 {p} --dport {sp.port}") for ip in sp.external_ips]
    if sp.node_port:
        externals.append(("KUBE-NODEPORTS", f"{p} --dport {sp.node_port}"))
    if not sp.has_external:
        return
    if sp.external_endpoints:
        t.nat_chains.append(ext)
        if not sp.external_local:
            t.nat_rules += [f"-A {ext} -j KUBE-MARK-MASQ", f"-A {ext} -j {cluster}"]
        else:
            if cluster and node.cluster_cidr:
                t.nat_rules.append(f"-A {ext} -s {node.cluster_cidr} -j {cluster}")
            if cluster:
                t.nat_rules.append(f"-A {ext} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ")
                t.nat_rules.append(f"-A {ext} -m addrtype --src-type LOCAL -j {cluster}")
            t.nat_rules.append(f"-A {ext} -j {local}")
        t.nat_rules += [f"-A {chain} {comment} {match} -j {ext}" for chain, match in externals]
    else:
        target = _no_endpoints(sp.external_no_endpoints)
        for chain, match in externals:
            if chain == "KUBE-NODEPORTS":
                match = f"{_nodeport_dst(node)[0]} {match}"
            t.filter_rules.append(f"-A KUBE-EXTERNAL-SERVICES {comment} {match} -j {target}")


def _no_endpoints(action: str) -> str:
    return "REJECT --reject-with icmp-port-unreachable" if action == "reject" else "DROP"


def _nodeport_dst(node: NodeConfig) -> list[str]:
    if node.nodeport_addresses:
        return [f"-d {cidr}" for cidr in node.nodeport_addresses]
    return ["-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8"]


def _script(
    node: NodeConfig,
    fragments: Mapping[str, Fragment],
    write: Iterable[str],
    delete: Iterable[tuple[str, str]],
    missing_jumps: Iterable[int],
) -> str:
    """The restore input: flushes and refills the fixed chains (entries of every
    port), declares and fills the chains of the ports in `write`, deletes the
    `delete` (table, chain) pairs and inserts the jumps `JUMPS[i]`, i in `missing_jumps`."""
    written = [fragments[name] for name in write]
    last = (
        '-m comment --comment "kubernetes service nodeports; '
        'NOTE: this must be the last rule in this chain"'
    )
    fixed_nat = [
        f"-A KUBE-POSTROUTING -m mark ! --mark {MASQ_MARK}/{MASQ_MARK} -j RETURN",
        f"-A KUBE-POSTROUTING -j MARK --xor-mark {MASQ_MARK}",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" '
        "-j MASQUERADE --random-fully",
        f"-A KUBE-MARK-MASQ -j MARK --or-mark {MASQ_MARK}",
    ]
    nat_body = fixed_nat + [r for f in written for r in f.own]
    nat_body += [r for f in fragments.values() for r in f.entry]
    nat_body += [f"-A KUBE-SERVICES {last} {dst} -j KUBE-NODEPORTS" for dst in _nodeport_dst(node)]
    filter_body = [r for f in fragments.values() for r in f.filter]
    missing_jumps = list(missing_jumps)
    delete = sorted(delete)
    out: list[str] = []
    for table, chains, body in (
        ("nat", [*FIXED["nat"], *(c for f in written for c in f.chains)], nat_body),
        ("filter", list(FIXED["filter"]), filter_body),
    ):
        out.append(f"*{table}")
        out += [f":{chain} - [0:0]" for chain in chains]
        doomed = [c for tb, c in delete if tb == table and c not in chains]
        out += [f":{chain} - [0:0]" for chain in doomed]
        out += body
        for i in missing_jumps:
            jt, builtin, target, match, comment = JUMPS[i]
            if jt == table:
                out.append(_jump_rule(builtin, target, match, comment).replace("-A ", "-I ", 1))
        out += [f"-X {chain}" for chain in doomed]
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def render(
    rules: RuleSet, stale: Iterable[tuple[str, str]] = (), missing_jumps: Iterable[int] = ()
) -> str:
    """The full `iptables-restore --noflush` input programming `rules` (pure):
    every chain of ours declared (so flushed) and filled, the `stale` (table, chain)
    pairs deleted, the jumps `JUMPS[i]` for i in `missing_jumps` inserted."""
    fragments = {name: fragment(sp, rules.node) for name, sp in rules.ports.items()}
    return _script(rules.node, fragments, fragments, stale, missing_jumps)


def parse_save(text: str) -> tuple[set[tuple[str, str]], set[int]]:
    """From `iptables-save` output: our (table, chain) pairs and which `JUMPS` exist."""
    chains: set[tuple[str, str]] = set()
    present: set[int] = set()
    table = ""
    wanted = {(jt, _jump_rule(b, tg, m, c)): i for i, (jt, b, tg, m, c) in enumerate(JUMPS)}
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":") and _ours(line[1:].split()[0]):
            chains.add((table, line[1:].split()[0]))
        elif (table, line.strip()) in wanted:
            present.add(wanted[(table, line.strip())])
    return chains, present


class IptablesApplier:
    """Programs `RuleSet`s with `iptables-restore --noflush` (module docstring)."""

    def __init__(self, run: Runner) -> None:
        self._run = run
        self._node: NodeConfig | None = None  # None: the tables' state is unknown
        self._applied: Mapping[str, ServicePort] = {}
        self._fragments: dict[str, Fragment] = {}
        self.rule_count = 0

    async def _existing(self) -> tuple[set[tuple[str, str]], set[int]]:
        return parse_save(await self._run(["iptables-save"], b""))

    async def sync(self, rules: RuleSet, *, full: bool = False) -> None:
        """Programs `rules`: a full sync (first, after a failure, `full`) reads the
        tables and rewrites all our chains; otherwise only the changed ports' chains
        and the shared entry chains are written. CommandError if refused."""
        missing: list[int] = []
        if full or self._node != rules.node:
            existing, present = await self._existing()
            missing = [i for i in range(len(JUMPS)) if i not in present]
            fragments = {n: fragment(sp, rules.node) for n, sp in rules.ports.items()}
            write: list[str] = list(fragments)
            wanted = {("nat", c) for f in fragments.values() for c in f.chains}
            delete = {tc for tc in existing if tc[1].startswith(PER_SERVICE_PREFIXES)} - wanted
        else:
            old, new = self._applied, rules.ports
            changed = rules.changed_since(old)
            fragments = dict(self._fragments)
            write, delete = [], set()
            for name in changed:
                before = fragments.pop(name, None)
                if name in new:
                    fragments[name] = fragment(new[name], rules.node)
                    write.append(name)
                keep = set(fragments[name].chains) if name in new else set()
                if before is not None:
                    delete |= {("nat", c) for c in before.chains if c not in keep}
            if not changed:
                return
        script = _script(rules.node, fragments, write, delete, missing)
        try:
            await self._run(["iptables-restore", "--noflush"], script.encode())
        except Exception:
            self._node = None
            raise
        self._node, self._applied, self._fragments = rules.node, rules.ports, fragments
        self.rule_count = sum(len(f.own) + len(f.entry) + len(f.filter) for f in fragments.values())

    async def cleanup(self) -> None:
        """Removes our jump rules and chains (nothing else); idempotent."""
        chains, present = await self._existing()
        out: list[str] = []
        for table in ("nat", "filter"):
            out.append(f"*{table}")
            for i in sorted(present):
                jt, builtin, target, match, comment = JUMPS[i]
                if jt == table:
                    out.append(_jump_rule(builtin, target, match, comment).replace("-A ", "-D ", 1))
            mine = sorted(c for tb, c in chains if tb == table)
            out += [f":{chain} - [0:0]" for chain in mine]
            out += [f"-X {chain}" for chain in mine]
            out.append("COMMIT")
        await self._run(["iptables-restore", "--noflush"], ("\n".join(out) + "\n").encode())
        self._node = None
