"""kube-proxy: Services and EndpointSlices → a rule set (pure `rules.compute`),
applied with nftables (default) or iptables by appliers that diff and apply it."""
