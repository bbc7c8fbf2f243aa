"""Pod volumes on the node: emptyDir (disk or tmpfs), configMap, secret, hostPath,
downwardAPI and projected, written atomically like Kubernetes (`..data` symlink swap),
plus the per-container mounts (volumeMounts, /etc/hosts, termination-message file).

`manager.VolumeManager` is the entry point the kubelet uses.
"""
