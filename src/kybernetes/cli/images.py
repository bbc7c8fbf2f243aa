"""`kyb images`: the local node's image store (DATA_DIR/images) from the command line.

    kyb images import [--data-dir DIR] FILE.tar   docker-archive or OCI-archive tarball
    kyb images list [--data-dir DIR]              a table like `crictl images`
    kyb images pull [--data-dir DIR] REF          from an OCI distribution registry
    kyb images rm [--data-dir DIR] REF            the image with all its tags (crictl rmi)

`--data-dir` is the node's (`kyb server` / `kyb kubelet`), with the same default.
Output follows crictl: `list` prints IMAGE, TAG, IMAGE ID (13 hex digits) and SIZE
(4 significant digits, decimal units) in columns; `pull` prints
`Image is up to date for ID`; `rm` prints `Deleted: REF`. Failures print one line
`kyb images: error: …` and exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kybernetes.kubelet.images.reference import familiar, parse
from kybernetes.kubelet.images.service import LocalImageService
from kybernetes.kubelet.images.store import ImageStore
from kybernetes.kubelet.runtime.interface import ContainerRuntimeError, Image

from .server import default_data_dir

PROG = "kyb images"
_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def add_images_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Adds `kyb images` and its subcommands to the `kyb` parser."""
    images = commands.add_parser(
        "images",
        help="manage the local node's images",
        description="Import, list, pull and remove the images of the local node.",
    )
    actions = images.add_subparsers(dest="images_command", metavar="ACTION")
    actions.required = True
    specs = (
        ("import", "import a docker-archive or OCI-archive tarball", "FILE"),
        ("list", "list images", None),
        ("pull", "pull an image from a registry", "REF"),
        ("rm", "remove an image and all its tags", "REF"),
    )
    for name, help_text, operand in specs:
        action = actions.add_parser(name, help=help_text, description=help_text.capitalize())
        action.add_argument("--data-dir", default=None, help="the node's state directory")
        if operand is not None:
            action.add_argument("operand", metavar=operand)


def human_size(size: int) -> str:
    """go-units' HumanSize: decimal units, 4 significant digits (`1.032MB`)."""
    value = float(size)
    unit = 0
    while value >= 1000 and unit < len(_UNITS) - 1:
        value /= 1000
        unit += 1
    return f"{value:.4g}{_UNITS[unit]}"


def image_rows(images: Sequence[Image]) -> list[tuple[str, str, str, str]]:
    """One row per tag (per digest for untagged images; `<none>` when unnamed)."""
    rows = []
    for image in sorted(images, key=lambda i: (sorted(i.repo_tags), i.id)):
        short_id = image.id.removeprefix("sha256:")[:13]
        size = human_size(image.size)
        names = [familiar(parse(t)) for t in image.repo_tags]
        if not names:
            names = [(familiar(parse(d))[0], "<none>") for d in image.repo_digests[:1]]
        for repo, tag in names or [("<none>", "<none>")]:
            rows.append((repo, tag, short_id, size))
    return rows


def format_table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """Columns as Go's tabwriter(minwidth 20, padding 3) lays them out for crictl."""
    table = [header, *rows]
    widths = [max(20, max(len(r[i]) for r in table) + 3) for i in range(len(header) - 1)]
    lines = []
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("".join(cells) + row[-1])
    return "\n".join(lines)


async def _run(service: LocalImageService, action: str, operand: str | None) -> str:
    if action == "import":
        assert operand is not None
        imported = await service.import_archive(Path(operand))
        lines = []
        for image in imported:
            names = [*image.repo_tags] or [image.id]
            lines += [f"Loaded image: {name}" for name in names]
        return "\n".join(lines)
    if action == "list":
        rows = image_rows(await service.list_images())
        return format_table(rows, ("IMAGE", "TAG", "IMAGE ID", "SIZE"))
    if action == "pull":
        assert operand is not None
        image_id = await service.pull_image(operand)
        return f"Image is up to date for {image_id}"
    assert action == "rm" and operand is not None
    if await service.image_status(operand) is None:
        raise LookupError(f'no such image "{operand}" present')
    await service.remove_image(operand)
    return f"Deleted: {operand}"


def run_images(args: argparse.Namespace) -> int:
    """`kyb images ACTION`: returns the exit status."""
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    try:
        service = LocalImageService(ImageStore(data_dir / "images"))
        output = asyncio.run(_run(service, args.images_command, getattr(args, "operand", None)))
    except (ContainerRuntimeError, OSError, ValueError, LookupError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    if output:
        print(output)
    return 0
