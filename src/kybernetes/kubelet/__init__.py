"""The kubelet: the node agent.

It registers its Node, heartbeats a Lease, runs the pods bound to it through a
CRI-shaped container runtime (`runtime.interface`), reports their status truthfully,
and serves logs, exec, attach and port-forward on its own HTTPS port. Runtimes:
`oci` (runc + CNI + overlayfs), `process` (host processes, no isolation) and
`simulated` (no processes; kwok-style scale testing).
"""
