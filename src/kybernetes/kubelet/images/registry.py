"""Pulling images from OCI distribution (v2) registries into the store.

`pull(store, ref, auth)` works the way containerd's resolver does: GET the manifest
(`/v2/NAME/manifests/TAG|DIGEST`, accepting OCI and Docker v2 schema 2 manifests and
indexes); on `401` follow the `WWW-Authenticate` challenge — `Bearer realm,service,
scope` gets a token from the realm (anonymously, or with the AuthConfig's username and
password as Basic credentials; a `registry_token` is used as the bearer token as is),
`Basic` sends the credentials — and retry once. An index is resolved to this machine's
platform; the config and the layers missing from the store are streamed to disk,
verified against their digests, unpacked (in a thread) and checked against the config's
diffIDs, then the image is committed under its tag and its repo digest.

Registries on loopback (`localhost`, `127.*`, `[::1]`) are spoken to over plain HTTP
(containerd's default for localhost), every other one over HTTPS; `docker.io` is
`registry-1.docker.io`.

Invariants: nothing unverified reaches the store; a failed pull leaves no partial
image (layers already unpacked stay, shared, and are pruned with the next removal if no
image uses them). Every failure is `PullError` worded like containerd:
`failed to pull and unpack image "REF": failed to resolve reference "REF": REF: not found`,
`... pull access denied, repository does not exist or may require authorization: ...`,
`... failed to do request: Get "URL": dial tcp HOST:PORT: connect: connection refused`.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import re

import aiohttp

from ..runtime.interface import AuthConfig
from . import manifests
from .reference import Reference, parse
from .store import DigestMismatch, ImageRecord, ImageStore, sha256_digest

DOCKER_HUB = "registry-1.docker.io"
MAX_MANIFEST_BYTES = 4 << 20
LAYER_CONCURRENCY = 3
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class PullError(Exception):
    """A pull failed; str(e) is containerd's wording of why."""


def endpoint(domain: str) -> str:
    """The base URL of the registry serving `domain`."""
    host = domain.rsplit(":", 1)[0] if not domain.endswith("]") else domain
    local = host in ("localhost", "[::1]") or host.startswith("127.")
    if domain == "docker.io":
        domain = DOCKER_HUB
    return f"{'http' if local else 'https'}://{domain}"


def _dial_error(url: str, method: str, error: aiohttp.ClientConnectorError) -> str:
    """Go's wording of a failed connection, as containerd shows it."""
    target = f"{error.host}:{error.port}"
    os_error = error.os_error
    if isinstance(os_error, ConnectionRefusedError) or os_error.errno == errno.ECONNREFUSED:
        cause = "connect: connection refused"
    elif isinstance(error, aiohttp.ClientConnectorDNSError):
        return (
            f'failed to do request: {method} "{url}": dial tcp: lookup {error.host}: no such host'
        )
    else:
        cause = f"connect: {(os_error.strerror or str(os_error)).lower()}"
    return f'failed to do request: {method} "{url}": dial tcp {target}: {cause}'


async def _server_message(response: aiohttp.ClientResponse) -> str:
    """The registry's own error text (`errors[0].code: message`), else the status."""
    try:
        body = await response.json(content_type=None)
        first = body["errors"][0]
        return f"server message: {first['code'].lower()}: {first['message']}"
    except (ValueError, KeyError, IndexError, TypeError, aiohttp.ClientError):
        return f"{response.status} {response.reason}"


class _Registry:
    """One repository on one registry, with the authorization it earned."""

    def __init__(
        self, session: aiohttp.ClientSession, ref: Reference, auth: AuthConfig | None
    ) -> None:
        self.session = session
        self.ref = ref
        self.auth = auth or AuthConfig()
        self.base = endpoint(ref.domain)
        self.authorization: str | None = (
            f"Bearer {self.auth.registry_token}" if self.auth.registry_token else None
        )

    async def get(self, path: str, accept: str = "*/*") -> aiohttp.ClientResponse:
        """GET base+path, authorizing once on a 401 challenge; the response is open.
        Raises PullError for connection failures and for a 401 after authorizing."""
        url = f"{self.base}{path}"
        for attempt in range(2):
            headers = {"Accept": accept}
            if self.authorization:
                headers["Authorization"] = self.authorization
            try:
                response = await self.session.get(url, headers=headers)
            except aiohttp.ClientConnectorError as e:
                raise PullError(_dial_error(url, "Get", e)) from e
            except aiohttp.ClientError as e:
                raise PullError(f'failed to do request: Get "{url}": {e}') from e
            if response.status != 401 or attempt == 1:
                break
            try:
                authorized = await self._authorize(response.headers.get("WWW-Authenticate", ""))
            except BaseException:
                response.release()
                raise
            if not authorized:
                break
            response.release()
        if response.status in (401, 403):
            message = await _server_message(response)
            response.release()
            raise PullError(
                "pull access denied, repository does not exist or may require authorization: "
                + message
            )
        return response

    async def _authorize(self, challenge: str) -> bool:
        """Earns an Authorization header from a challenge; whether there is one to try."""
        scheme, _, rest = challenge.partition(" ")
        params = dict(_CHALLENGE_PARAM.findall(rest))
        basic = None
        if self.auth.username or self.auth.password:
            basic = aiohttp.encode_basic_auth(self.auth.username, self.auth.password)
        if scheme.lower() == "basic":
            if basic is None:
                return False
            self.authorization = basic
            return True
        if scheme.lower() != "bearer" or "realm" not in params:
            return False
        query = {"scope": f"repository:{self.ref.path}:pull"}
        if params.get("service"):
            query["service"] = params["service"]
        kind = "oauth" if basic else "anonymous"
        try:
            headers = {"Authorization": basic} if basic else {}
            async with self.session.get(params["realm"], params=query, headers=headers) as response:
                if response.status != 200:
                    raise PullError(
                        f"failed to authorize: failed to fetch {kind} token: unexpected status "
                        f"from GET request to {response.url}: {response.status} {response.reason}"
                    )
                body = await response.json(content_type=None)
        except aiohttp.ClientConnectorError as e:
            raise PullError(f"failed to authorize: {_dial_error(params['realm'], 'Get', e)}") from e
        except (aiohttp.ClientError, ValueError) as e:
            raise PullError(f"failed to authorize: failed to fetch {kind} token: {e}") from e
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise PullError(f"failed to authorize: no token in the response from {params['realm']}")
        self.authorization = f"Bearer {token}"
        return True

    async def manifest(self, reference: str) -> tuple[bytes, str, str]:
        """(body, content type, digest) of manifests/`reference`; the digest is verified
        when `reference` is one. Raises PullError (`not found` in containerd's words)."""
        response = await self.get(f"/v2/{self.ref.path}/manifests/{reference}", manifests.ACCEPT)
        async with response:
            if response.status == 404:
                raise PullError(f"{self.ref}: not found")
            if response.status != 200:
                raise PullError(f"{self.ref}: {await _server_message(response)}")
            body = b""
            try:
                async for chunk in response.content.iter_chunked(1 << 16):
                    body += chunk
                    if len(body) > MAX_MANIFEST_BYTES:
                        raise PullError(
                            f"manifest {reference} is larger than {MAX_MANIFEST_BYTES} bytes"
                        )
            except (aiohttp.ClientError, TimeoutError) as e:
                raise PullError(f"failed to read manifest {reference}: {e or 'timeout'}") from e
            digest = sha256_digest(body)
            if ":" in reference and digest != reference:  # pinned (only sha256 is supported)
                raise PullError(f"unexpected commit digest {digest}, expected {reference}")
            return body, response.headers.get("Content-Type", ""), digest

    async def blob_to_file(self, descriptor: manifests.Descriptor, path: str) -> None:
        """Streams blob `descriptor` into `path`, verifying size and digest."""
        response = await self.get(f"/v2/{self.ref.path}/blobs/{descriptor.digest}")
        async with response:
            if response.status != 200:
                reason = "not found" if response.status == 404 else await _server_message(response)
                raise PullError(
                    "failed to copy: httpReadSeeker: failed open: could not fetch content "
                    f"descriptor {descriptor.digest} ({descriptor.media_type}) "
                    f"from remote: {reason}"
                )
            h, size = hashlib.sha256(), 0
            out = await asyncio.to_thread(open, path, "wb")
            try:
                async for chunk in response.content.iter_chunked(1 << 20):
                    h.update(chunk)
                    size += len(chunk)
                    if size > descriptor.size:
                        break
                    await asyncio.to_thread(out.write, chunk)
            except (aiohttp.ClientError, TimeoutError) as e:
                raise PullError(f"failed to copy: {descriptor.digest}: {e or 'timeout'}") from e
            finally:
                out.close()
        actual = "sha256:" + h.hexdigest()
        if size != descriptor.size or actual != descriptor.digest:
            raise PullError(
                f"failed to copy: unexpected commit digest {actual}, expected "
                f"{descriptor.digest}: failed precondition"
            )

    async def blob(self, descriptor: manifests.Descriptor, store: ImageStore) -> bytes:
        """A small blob (a config) in memory, verified."""
        path = store.staging_dir() / "blob"
        try:
            await self.blob_to_file(descriptor, str(path))
            return path.read_bytes()
        finally:
            path.unlink(missing_ok=True)
            path.parent.rmdir()


async def pull(
    store: ImageStore,
    ref: str,
    auth: AuthConfig | None = None,
    session: aiohttp.ClientSession | None = None,
) -> ImageRecord:
    """Pulls `ref` (normalised like docker) into `store`; returns the image's record.
    Raises PullError worded like containerd (also for local failures such as a full
    disk); ValueError for an invalid reference."""
    parsed = parse(ref)
    name = str(parsed)
    owned = session is None
    if session is None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)
        session = aiohttp.ClientSession(timeout=timeout)
    try:
        registry = _Registry(session, parsed, auth)
        try:
            body, content_type, top = await registry.manifest(parsed.digest or str(parsed.tag))
        except PullError as e:
            raise PullError(
                f'failed to pull and unpack image "{name}": failed to resolve reference '
                f'"{name}": {e}'
            ) from e
        try:
            return await _fetch(store, registry, parsed, body, content_type, top)
        except (PullError, OSError, ValueError) as e:  # OSError: e.g. the disk is full
            raise PullError(f'failed to pull and unpack image "{name}": {e}') from e
    finally:
        if owned:
            await session.close()


async def _fetch(
    store: ImageStore,
    registry: _Registry,
    ref: Reference,
    body: bytes,
    content_type: str,
    top: str,
) -> ImageRecord:
    """Resolves the platform, fetches config and missing layers, commits the image."""
    try:
        document = manifests.load(body)
        if manifests.is_index(document, content_type):
            store.put_blob(body, top)
            chosen = manifests.select_platform(document)
            body, content_type, _ = await registry.manifest(chosen.digest)
            document = manifests.load(body)
        manifest = manifests.parse_manifest(document, content_type)
    except manifests.ManifestError as e:
        raise PullError(str(e)) from e
    config = await registry.blob(manifest.config, store)
    try:
        diff_ids = manifests.diff_ids(config)
    except manifests.ManifestError as e:
        raise PullError(f"invalid image config: {e}") from e
    if len(diff_ids) != len(manifest.layers):
        raise PullError(
            f"mismatched image rootfs and manifest layers: {len(diff_ids)} diffIDs, "
            f"{len(manifest.layers)} layers"
        )
    semaphore = asyncio.Semaphore(LAYER_CONCURRENCY)

    async def fetch_layer(layer: manifests.Descriptor, diff_id: str) -> None:
        if store.has_layer(diff_id):
            return
        async with semaphore:
            staged = store.staging_dir()
            path = staged / "blob"
            try:
                await registry.blob_to_file(layer, str(path))
                await asyncio.to_thread(_unpack_file, store, str(path), diff_id)
            finally:
                path.unlink(missing_ok=True)
                staged.rmdir()

    with store.lease(diff_ids):
        try:
            async with asyncio.TaskGroup() as tasks:
                for layer, diff_id in zip(manifest.layers, diff_ids, strict=True):
                    tasks.create_task(fetch_layer(layer, diff_id))
        except ExceptionGroup as group:
            raise group.exceptions[0] from None
        names = [str(ref.with_digest(top))]
        if ref.digest is None:
            names.insert(0, str(ref))
        return await asyncio.to_thread(store.commit, body, config, manifest.size, names)


def _unpack_file(store: ImageStore, path: str, diff_id: str) -> None:
    try:
        with open(path, "rb") as f:
            store.unpack_layer(f, diff_id)
    except (DigestMismatch, ValueError) as e:
        raise PullError(f"failed to extract layer {diff_id}: {e}") from e
