"""The `oci` runtime: real containers with runc, pod sandboxes of pinned namespaces
networked by CNI plugins, overlayfs root filesystems, cgroups for resources, and the
container shim for supervision. `OciRuntime` is the entry point."""

from kybernetes.kubelet.runtime.oci.runtime import OciRuntime

__all__ = ["OciRuntime"]
