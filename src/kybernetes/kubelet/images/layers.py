"""Unpacking one image layer (a tar, plain, gzip or zstd) into a directory for overlayfs.

`unpack(stream, dest)` streams the tar once, computing its diffID (sha256 of the
uncompressed tar) on the way, and writes the tree under `dest`:

- Paths are confined to `dest`: names are cleaned (`..` cannot climb above the
  root, a leading `/` is dropped) and parent directories are resolved inside `dest`
  even through symlinks the layer itself made (an absolute symlink means `dest/...`),
  so no entry can write outside it. Symlinks are stored with their target as is.
- Whiteouts become what overlayfs understands: `.wh.NAME` → a character device 0/0
  `NAME`, and `.wh..wh..opq` in a directory → xattr `trusted.overlay.opaque=y` on it.
  Both need root (CAP_MKNOD, CAP_SYS_ADMIN); without root the `.wh.` files are kept
  as they are (empty regular files), which only matters to overlay mounts, which also
  need root. Other `.wh..wh.` entries (aufs bookkeeping) are skipped.
- Regular files, directories, symlinks, hard links (to earlier entries of the same
  layer), FIFOs and, as root, devices; modes (with setuid/setgid/sticky), mtimes and,
  as root, ownership and extended attributes (PAX `SCHILY.xattr.*`).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import shutil
import stat
import tarfile
from pathlib import Path
from typing import IO, Any

import zstandard

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_MAX_SYMLINKS = 255


class LayerError(ValueError):
    """A layer that is not a valid tar or not what its digest says."""


class _HashingReader(io.RawIOBase):
    """Reads through `inner`, feeding everything read to a sha256."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        self.hash.update(data)
        buffer[: len(data)] = data
        return len(data)


def decompressed(stream: IO[bytes]) -> IO[bytes]:
    """A reader of the seekable `stream`'s uncompressed content, from its current
    position (gzip and zstd are detected by their magic bytes; anything else is read
    as is)."""
    start = stream.tell()
    head = stream.read(4)
    stream.seek(start)
    if head.startswith(_GZIP_MAGIC):
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    if head.startswith(_ZSTD_MAGIC):
        reader: IO[bytes] = zstandard.ZstdDecompressor().stream_reader(
            stream, read_across_frames=True
        )
        return reader
    return stream


def unpack(stream: IO[bytes], dest: Path) -> tuple[str, int]:
    """Extracts the layer tar read from the seekable `stream` (compressed or not) into
    `dest` (an empty directory it creates); returns (diffID, bytes of file content).
    Raises LayerError for a broken tar."""
    dest.mkdir(parents=True, exist_ok=True)
    root = os.geteuid() == 0
    reader = _HashingReader(decompressed(stream))
    dirs: list[tuple[str, tarfile.TarInfo]] = []
    size = 0
    try:
        with tarfile.open(fileobj=io.BufferedReader(reader), mode="r|") as tar:
            for member in tar:
                size += _extract(tar, member, str(dest), root, dirs)
            # drain the end-of-archive padding so the digest covers the whole tar
            while reader.read(65536):
                pass
    except (tarfile.TarError, OSError, EOFError, zstandard.ZstdError) as e:
        raise LayerError(f"failed to extract layer: {e}") from e
    for path, member in sorted(dirs, key=lambda d: len(d[0]), reverse=True):
        # deepest first, after their content (a read-only directory stays writable
        # until its children are in)
        _set_attributes(path, member, root)
    return "sha256:" + reader.hash.hexdigest(), size


def clean_path(name: str) -> str:
    """`name` as a path relative to the layer root, `..` clamped at the root; '' is the root."""
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def _resolve_parent(root: str, rel: str) -> str:
    """The real host path of `rel`'s parent directory, following symlinks inside
    `root` only (an absolute target is taken relative to `root`)."""
    resolved: list[str] = []
    pending = [p for p in rel.split("/")[:-1] if p][::-1]
    hops = 0
    while pending:
        part = pending.pop()
        if part == ".":
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        if os.path.islink(candidate):
            hops += 1
            if hops > _MAX_SYMLINKS:
                raise LayerError(f"too many levels of symbolic links in {rel!r}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            pending.extend(p for p in reversed(target.split("/")) if p)
            continue
        resolved.append(part)
    return os.path.join(root, *resolved)


def _make_parents(root: str, rel: str) -> str:
    """Creates `rel`'s parent directories (confined to `root`); returns the host path
    of `rel` itself."""
    parent = _resolve_parent(root, rel)
    os.makedirs(parent, exist_ok=True)
    return os.path.join(parent, rel.rsplit("/", 1)[-1])


def _clear(path: str, keep_dir: bool) -> None:
    """Removes whatever is at `path` (a later entry replaces an earlier one), except an
    existing directory when the new entry is a directory too."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        if keep_dir:
            return
        remove_tree(Path(path))
    else:
        os.unlink(path)


def _extract(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    root: str,
    is_root: bool,
    dirs: list[tuple[str, tarfile.TarInfo]],
) -> int:
    """Writes one tar entry; returns the bytes of content written."""
    rel = clean_path(member.name)
    if not rel:
        dirs.append((root, member))
        return 0
    base = rel.rsplit("/", 1)[-1]
    if base.startswith(WHITEOUT_PREFIX) and is_root:
        parent = _resolve_parent(root, rel)
        os.makedirs(parent, exist_ok=True)
        if base == OPAQUE_MARKER:
            os.setxattr(parent, OPAQUE_XATTR, b"y")
        elif not base.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
            target = os.path.join(parent, base[len(WHITEOUT_PREFIX) :])
            _clear(target, keep_dir=False)
            os.mknod(target, stat.S_IFCHR | 0o000, os.makedev(0, 0))
        return 0
    path = _make_parents(root, rel)
    _clear(path, keep_dir=member.isdir())
    if member.isdir():
        os.makedirs(path, exist_ok=True)
        dirs.append((path, member))
        return 0
    if member.isreg():
        source = tar.extractfile(member)
        assert source is not None
        with open(path, "wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        _set_attributes(path, member, is_root)
        return member.size
    if member.issym():
        os.symlink(member.linkname, path)
        _set_attributes(path, member, is_root)
        return 0
    if member.islnk():
        link_rel = clean_path(member.linkname)
        source_path = os.path.join(_resolve_parent(root, link_rel), link_rel.rsplit("/", 1)[-1])
        if not link_rel or not os.path.lexists(source_path):
            raise LayerError(f"hard link {member.name!r} to missing {member.linkname!r}")
        os.link(source_path, path, follow_symlinks=False)
        return 0
    if member.isfifo():
        os.mkfifo(path)
    elif (member.ischr() or member.isblk()) and is_root:
        kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
        os.mknod(path, kind | 0o600, os.makedev(member.devmajor, member.devminor))
    else:
        return 0  # devices without root: cannot be created; overlay needs root anyway
    _set_attributes(path, member, is_root)
    return 0


def _set_attributes(path: str, member: tarfile.TarInfo, is_root: bool) -> None:
    """Ownership and xattrs (root only), then mode and mtime, without following symlinks."""
    symlink = member.issym()
    if is_root:
        os.lchown(path, member.uid, member.gid)
        for key, value in (member.pax_headers or {}).items():
            if key.startswith("SCHILY.xattr."):
                with contextlib.suppress(OSError):
                    os.setxattr(
                        path,
                        key[len("SCHILY.xattr.") :],
                        value.encode("utf-8", "surrogateescape"),
                        follow_symlinks=False,
                    )
    if not symlink:
        os.chmod(path, member.mode & 0o7777)
    with contextlib.suppress(OSError):
        os.utime(path, (member.mtime, member.mtime), follow_symlinks=not symlink)


def remove_tree(path: Path) -> None:
    """Removes `path` and everything under it, also inside read-only directories; a
    missing path is fine."""

    def _retry(func: Any, target: str, _exc: Any) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(target), 0o700)
        func(target)

    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, onerror=_retry)
