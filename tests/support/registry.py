"""A local OCI registry for tests: Debian's docker-registry on 127.0.0.1, filled by skopeo.

`LocalRegistry()` starts `/usr/bin/docker-registry serve CONFIG` with its storage in a
temporary directory, listening on a free loopback port; `push(archive, "busybox:1.36")`
copies a docker-archive or OCI-archive tarball into it with skopeo (`--all` keeps a
multi-platform index). `TokenAuthRegistry(upstream)` is an aiohttp server in front of
it that demands bearer tokens (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`),
issues them from `/token` (anonymously, or only for given Basic credentials) and
proxies authorised requests to the real registry.

Plain functions for benchmarks and scripts: `write_busybox_archives(dir)` (the
docker-archive, OCI-archive, zstd OCI-archive and two-platform OCI index archive of the
busybox test image) and `start_busybox_registry(archives)` (a registry holding
`busybox:1.36` from the docker-archive and `busybox-multi:1.36` as a manifest list).
The same as session fixtures (import them into a conftest): `busybox_archives`,
`local_registry`.

Invariants: `start()` returns once `/v2/` answers, polling with a deadline (no blind
sleeps), and fails with the registry's log otherwise; `stop()` (and leaving the `with`
block) kills the process and removes the temporary directory, also after failures.
"""

from __future__ import annotations

import base64
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import aiohttp
import pytest
from aiohttp import web

from tests.support import images

REGISTRY_BINARY = "/usr/bin/docker-registry"
SKOPEO_BINARY = "/usr/bin/skopeo"
HOST = "127.0.0.1"


def registry_available() -> bool:
    """Whether docker-registry and skopeo are installed."""
    return shutil.which(REGISTRY_BINARY) is not None and shutil.which(SKOPEO_BINARY) is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash of `password` for an htpasswd file (glibc's crypt)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))


class LocalRegistry:
    """One docker-registry process on 127.0.0.1 with temporary storage."""

    def __init__(self, htpasswd: tuple[str, str] | None = None) -> None:
        """`htpasswd=(user, password)` makes the registry demand HTTP Basic auth (its
        `auth.htpasswd` setting, bcrypt)."""
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="kyb-registry-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.htpasswd = htpasswd

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, the registry part of image references."""
        return f"{HOST}:{self.port}"

    def start(self, timeout: float = 20.0) -> LocalRegistry:
        config = self.dir / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n"
            "storage:\n"
            f"  filesystem:\n    rootdirectory: {self.dir / 'data'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n"
        )
        if self.htpasswd is not None:
            user, password = self.htpasswd
            (self.dir / "htpasswd").write_text(f"{user}:{bcrypt_hash(password)}\n")
            with open(config, "a") as f:
                f.write(f"auth:\n  htpasswd:\n    realm: kyb\n    path: {self.dir / 'htpasswd'}\n")
        log = open(self.dir / "registry.log", "wb")  # noqa: SIM115 (the child keeps it)
        with log:
            self.process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1) as response:
                    if response.status == 200:
                        return self
            except urllib.error.HTTPError as e:
                if e.code == 401:  # serving, and asking for credentials
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)  # not listening yet: poll again
        tail = (self.dir / "registry.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"docker-registry did not become ready:\n{tail}")

    def push(self, archive: Path, repo_tag: str, transport: str = "docker-archive") -> None:
        """Copies the tarball `archive` to `HOST:PORT/repo_tag` with skopeo."""
        result = subprocess.run(
            [
                SKOPEO_BINARY,
                "--insecure-policy",
                "copy",
                "--quiet",
                "--all",
                "--dest-tls-verify=false",
                *(["--dest-creds", ":".join(self.htpasswd)] if self.htpasswd else []),
                f"{transport}:{archive}",
                f"docker://{self.host}/{repo_tag}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"skopeo copy failed: {result.stderr.strip()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class TokenAuthRegistry:
    """A bearer-token front for `upstream` (an http://HOST:PORT URL) on 127.0.0.1.
    With `username`/`password`, `/token` answers 401 to anyone else."""

    SERVICE = "kyb-test-registry"

    def __init__(self, upstream: str, username: str = "", password: str = "") -> None:
        self.upstream = upstream
        self.username, self.password = username, password
        self.tokens: set[str] = set()
        self.token_requests: list[dict[str, str]] = []
        self.port = free_port()

    @property
    def host(self) -> str:
        return f"{HOST}:{self.port}"

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests.append(dict(request.query))
        if self.username:
            expected = (
                "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            )
            if request.headers.get("Authorization") != expected:
                return web.json_response({"details": "incorrect username or password"}, status=401)
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return web.json_response({"token": token, "expires_in": 300})

    async def _proxy(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            repo = request.path.removeprefix("/v2/").rsplit("/", 2)[0]
            challenge = (
                f'Bearer realm="http://{self.host}/token",service="{self.SERVICE}",'
                f'scope="repository:{repo}:pull"'
            )
            body = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
            return web.json_response(body, status=401, headers={"WWW-Authenticate": challenge})
        headers = {"Accept": request.headers.get("Accept", "*/*")}
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.upstream}{request.path_qs}", headers=headers) as upstream,
        ):
            body_bytes = await upstream.read()
            keep = ("Content-Type", "Docker-Content-Digest")
            return web.Response(
                body=body_bytes,
                status=upstream.status,
                headers={k: upstream.headers[k] for k in keep if k in upstream.headers},
            )

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[TokenAuthRegistry]:
        """Serves on 127.0.0.1:port until the block ends."""
        app = web.Application()
        app.router.add_get("/token", self._token)
        app.router.add_get("/{tail:.*}", self._proxy)
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            await web.TCPSite(runner, HOST, self.port).start()
            yield self
        finally:
            await runner.cleanup()


@dataclass(frozen=True)
class BusyboxArchives:
    """The busybox test image as tarballs; `image` is what they hold (gzip layer)."""

    image: images.Image
    docker_archive: Path
    oci_archive: Path
    oci_zstd_archive: Path
    oci_index_archive: Path
    index: bytes


def write_busybox_archives(directory: Path) -> BusyboxArchives:
    """Builds the busybox test image and writes all its tarballs into `directory`."""
    image = images.build_image()
    index_path, _, index = images.write_oci_index_archive(directory / "busybox-index.tar")
    return BusyboxArchives(
        image=image,
        docker_archive=images.write_docker_archive(directory / "busybox.tar", image),
        oci_archive=images.write_oci_archive(directory / "busybox-oci.tar", image),
        oci_zstd_archive=images.write_oci_archive(
            directory / "busybox-zstd.tar", images.build_image(compression="zstd")
        ),
        oci_index_archive=index_path,
        index=index,
    )


def start_busybox_registry(archives: BusyboxArchives) -> LocalRegistry:
    """A started LocalRegistry holding `busybox:1.36` (from the docker-archive) and
    `busybox-multi:1.36` (a two-platform manifest list); `stop()` it when done."""
    registry = LocalRegistry().start()
    try:
        registry.push(archives.docker_archive, "busybox:1.36")
        registry.push(archives.oci_index_archive, "busybox-multi:1.36", "oci-archive")
    except BaseException:
        registry.stop()
        raise
    return registry


@pytest.fixture(scope="session")
def busybox_archives(tmp_path_factory: pytest.TempPathFactory) -> BusyboxArchives:
    if not images.busybox_available():
        pytest.skip("needs /usr/bin/busybox (Debian's busybox-static)")
    return write_busybox_archives(tmp_path_factory.mktemp("busybox-image"))


@pytest.fixture(scope="session")
def local_registry(busybox_archives: BusyboxArchives) -> Iterator[LocalRegistry]:
    if not registry_available():
        pytest.skip("needs docker-registry and skopeo (Debian packages)")
    registry = start_busybox_registry(busybox_archives)
    try:
        yield registry
    finally:
        registry.stop()
