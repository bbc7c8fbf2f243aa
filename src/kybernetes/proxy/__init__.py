"""kube-proxy: Services and EndpointSlices → a rule set (pure `rules.compute`),
applied with nftables (default) or iptables by appliers that diff and apply it.

- `rules`: the pure computation (`compute`, `compute_service`, `RuleSet`, `ServicePort`).
- `nftables`: the table `ip kube-proxy`, synced by incremental `nft -f` transactions.
- `iptables`: kube-proxy's `KUBE-*` chains through `iptables-restore --noflush`.
- `proxier`: the level-triggered loop over the informers, with metrics and health.
- `command`: how the appliers run `nft`/`iptables-*` (optionally inside a netns).
"""
