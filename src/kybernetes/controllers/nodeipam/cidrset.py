"""`CIDRSet`: the subnets of one cluster CIDR handed out to nodes (Kubernetes'
`pkg/controller/nodeipam/ipam/cidrset`).

The cluster CIDR (say 10.42.0.0/16) is cut into subnets of `mask_size` bits (/24:
256 of them). `allocate_next()` hands out the first free subnet at or after a
rotating candidate index (so a released subnet is not reused at once);
`occupy(cidr)` marks a subnet taken (a node that already has it); `release(cidr)`
frees it. Occupying or releasing a subnet outside the cluster CIDR or of another
size raises ValueError. Not thread-safe; operations never await.
"""

from __future__ import annotations

import ipaddress

from kybernetes.client import Requeue


class CIDRExhausted(Requeue):
    """Every subnet of the cluster CIDR is taken (the node is retried with backoff)."""


class CIDRSet:
    """See the module docstring."""

    def __init__(self, cluster_cidr: str, mask_size: int) -> None:
        self.network = ipaddress.ip_network(cluster_cidr, strict=False)
        if not self.network.prefixlen <= mask_size <= self.network.max_prefixlen:
            raise ValueError(
                f"node CIDR mask size {mask_size} does not fit cluster CIDR {self.network}"
            )
        self.mask_size = mask_size
        self.count = 1 << (mask_size - self.network.prefixlen)
        self._step = 1 << (self.network.max_prefixlen - mask_size)
        self._used: set[int] = set()
        self._next = 0

    def __len__(self) -> int:
        return len(self._used)

    def _index(self, cidr: str) -> int:
        subnet = ipaddress.ip_network(cidr, strict=False)
        if subnet.prefixlen != self.mask_size or not subnet.subnet_of(self.network):  # type: ignore[arg-type]
            raise ValueError(f"{cidr} is not a /{self.mask_size} of {self.network}")
        offset = int(subnet.network_address) - int(self.network.network_address)
        return offset // self._step

    def _cidr(self, index: int) -> str:
        address = ipaddress.ip_address(int(self.network.network_address) + index * self._step)
        return f"{address}/{self.mask_size}"

    def occupy(self, cidr: str) -> None:
        self._used.add(self._index(cidr))

    def release(self, cidr: str) -> None:
        self._used.discard(self._index(cidr))

    def allocate_next(self) -> str:
        """The next free subnet, now taken. CIDRExhausted when none is left."""
        for step in range(self.count):
            index = (self._next + step) % self.count
            if index not in self._used:
                self._used.add(index)
                self._next = (index + 1) % self.count
                return self._cidr(index)
        raise CIDRExhausted(f"no remaining CIDRs in {self.network}")
