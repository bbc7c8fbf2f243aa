"""Kubeconfig files: writing the ones we hand out, loading them for our components.

`write_kubeconfig(path, config)` writes a one-cluster, one-user, one-context file in
kubectl's format with the credentials embedded (`certificate-authority-data`,
`client-certificate-data` / `client-key-data` or `token`), so it stays valid when
moved. `load_kubeconfig(path)` reads any such file back into a `RestConfig`: the
server URL, the CA to trust and the client's credentials, embedded or as file paths
(resolved against the kubeconfig's directory, as kubectl does); `tokenFile` too.

Invariants: a written kubeconfig holds secrets, so it is created 0600 and replaced
atomically (never readable by others, never half-written). Loading never changes
the file. Exec and auth-provider credential plugins are not supported (rejected).
"""

from __future__ import annotations

import base64
import contextlib
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class KubeconfigError(ValueError):
    """The kubeconfig is malformed or names something it does not define."""


@dataclass(frozen=True, slots=True)
class RestConfig:
    """How to reach and authenticate to an API server (client-go's `rest.Config`).

    `ca_pem` None trusts the system's CAs. A client certificate needs both PEMs.
    """

    server: str
    ca_pem: bytes | None = None
    client_cert_pem: bytes | None = None
    client_key_pem: bytes | None = None
    token: str | None = None
    insecure_skip_tls_verify: bool = False
    namespace: str = "default"

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context: TLS 1.2+, the CA (or no verification if insecure),
        and the client certificate if there is one."""
        if self.ca_pem is not None:
            context = ssl.create_default_context(cadata=self.ca_pem.decode("ascii"))
        else:
            context = ssl.create_default_context()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.insecure_skip_tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert_pem is not None and self.client_key_pem is not None:
            _load_cert_chain(context, self.client_cert_pem, self.client_key_pem)
        return context

    def auth_headers(self) -> dict[str, str]:
        """The `Authorization` header for a bearer token; empty without one."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


def _load_cert_chain(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    # The ssl module loads certificates only from files: use a private temporary one.
    with tempfile.TemporaryDirectory(prefix="kyb-tls-") as directory:
        path = Path(directory) / "client.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(cert_pem.rstrip(b"\n") + b"\n" + key_pem)
        context.load_cert_chain(path)


def write_kubeconfig(path: Path, config: RestConfig, *, name: str = "default") -> None:
    """Writes `config` as a kubeconfig whose cluster, user and context are all `name`
    (the current context). Creates parent directories; replaces an existing file."""
    cluster: dict[str, Any] = {"server": config.server}
    if config.ca_pem is not None:
        cluster["certificate-authority-data"] = _b64(config.ca_pem)
    if config.insecure_skip_tls_verify:
        cluster["insecure-skip-tls-verify"] = True
    user: dict[str, Any] = {}
    if config.client_cert_pem is not None and config.client_key_pem is not None:
        user["client-certificate-data"] = _b64(config.client_cert_pem)
        user["client-key-data"] = _b64(config.client_key_pem)
    if config.token:
        user["token"] = config.token
    context: dict[str, Any] = {"cluster": name, "user": name}
    if config.namespace != "default":
        context["namespace"] = config.namespace
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": context}],
        "current-context": name,
        "preferences": {},
    }
    text = yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, text.encode())


def load_kubeconfig(path: Path, *, context: str | None = None) -> RestConfig:
    """The `RestConfig` of `context` (default: the current context) in the kubeconfig
    at `path`. Raises OSError if a file cannot be read, `KubeconfigError` if the
    kubeconfig is malformed or incomplete."""
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise KubeconfigError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(document, dict):
        raise KubeconfigError(f"{path}: not a kubeconfig")
    context_name = context or document.get("current-context")
    if not context_name:
        raise KubeconfigError(f"{path}: no context given and no current-context set")
    ctx = _named(document, "contexts", "context", context_name, path)
    cluster = _named(document, "clusters", "cluster", ctx.get("cluster"), path)
    user = _named(document, "users", "user", ctx.get("user"), path) if ctx.get("user") else {}
    if "exec" in user or "auth-provider" in user:
        raise KubeconfigError(f"{path}: credential plugins (exec, auth-provider) are unsupported")
    server = cluster.get("server")
    if not server:
        raise KubeconfigError(f"{path}: cluster {ctx.get('cluster')!r} has no server")
    base = path.parent
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = (base / str(user["tokenFile"])).read_text().strip()
    return RestConfig(
        server=str(server),
        ca_pem=_data(cluster, "certificate-authority", base),
        client_cert_pem=_data(user, "client-certificate", base),
        client_key_pem=_data(user, "client-key", base),
        token=token or None,
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify", False)),
        namespace=str(ctx.get("namespace") or "default"),
    )


def _named(document: dict[str, Any], section: str, key: str, name: Any, path: Path) -> Any:
    for entry in document.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            value = entry.get(key) or {}
            if not isinstance(value, dict):
                raise KubeconfigError(f"{path}: {section} entry {name!r} is malformed")
            return value
    raise KubeconfigError(f"{path}: no {key} named {name!r}")


def _data(entry: dict[str, Any], field: str, base: Path) -> bytes | None:
    """`<field>-data` (base64) if set, else the file `<field>` names, else None."""
    if entry.get(f"{field}-data"):
        try:
            return base64.b64decode(entry[f"{field}-data"], validate=True)
        except ValueError as e:
            raise KubeconfigError(f"{field}-data is not valid base64") from e
    if entry.get(field):
        return (base / str(entry[field])).read_bytes()
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
