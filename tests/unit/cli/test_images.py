"""`kyb images import | list | pull | rm` on a data directory (the DESIGN.md contract)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kybernetes.cli.images import format_table, human_size
from kybernetes.cli.main import main
from tests.support.registry import BusyboxArchives, LocalRegistry, free_port
from tests.support.registry import busybox_archives as busybox_archives  # fixture
from tests.support.registry import local_registry as local_registry  # fixture

KYB = [sys.executable, "-m", "kybernetes.cli.main"]


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def kyb(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Runs `kyb ARGS` in this process (as the console script would) and captures it."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def test_human_size_and_table() -> None:
    assert [human_size(n) for n in (0, 999, 1_032_031, 5_000_000_000)] == [
        "0B",
        "999B",
        "1.032MB",
        "5GB",
    ]
    table = format_table([("a-very-long-repository-name-here", "1", "x")], ("IMAGE", "TAG", "ID"))
    assert table.splitlines() == [
        "IMAGE                              TAG                 ID",
        "a-very-long-repository-name-here   1                   x",
    ]


def test_import_list_rm(
    tmp_path: Path, busybox_archives: BusyboxArchives, kyb: Callable[..., Result]
) -> None:
    data = str(tmp_path)
    result = kyb("images", "import", "--data-dir", data, str(busybox_archives.docker_archive))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Loaded image: kyb.test/busybox:1.36\n"
    assert (tmp_path / "images" / "refs.json").exists()
    listing = kyb("images", "list", "--data-dir", data)
    assert listing.returncode == 0, listing.stderr
    header, row = listing.stdout.splitlines()
    assert header.split() == ["IMAGE", "TAG", "IMAGE", "ID", "SIZE"]
    assert row.split() == [
        "kyb.test/busybox",
        "1.36",
        busybox_archives.image.id[7:20],
        human_size(
            sum(len(b) for b in busybox_archives.image.layers) + len(busybox_archives.image.config)
        ),
    ]
    removed = kyb("images", "rm", "--data-dir", data, "kyb.test/busybox:1.36")
    assert (removed.returncode, removed.stdout) == (0, "Deleted: kyb.test/busybox:1.36\n")
    again = kyb("images", "rm", "--data-dir", data, "kyb.test/busybox:1.36")
    assert again.returncode == 1
    assert again.stderr == 'kyb images: error: no such image "kyb.test/busybox:1.36" present\n'
    assert kyb("images", "list", "--data-dir", data).stdout.splitlines()[1:] == []


def test_pull(tmp_path: Path, local_registry: LocalRegistry, kyb: Callable[..., Result]) -> None:
    ref = f"{local_registry.host}/busybox:1.36"
    result = kyb("images", "pull", "--data-dir", str(tmp_path), ref)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Image is up to date for sha256:")
    listing = kyb("images", "list", "--data-dir", str(tmp_path)).stdout
    assert f"{local_registry.host}/busybox" in listing


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["images", "pull", f"127.0.0.1:{free_port()}/x:1"], "connect: connection refused"),
        (["images", "import", "/nonexistent.tar"], "No such file or directory"),
        (["images", "pull", "UPPER"], "invalid reference format"),
    ],
)
def test_failures_are_one_line(
    tmp_path: Path, args: list[str], needle: str, kyb: Callable[..., Result]
) -> None:
    result = kyb(*args, "--data-dir", str(tmp_path))
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("kyb images: error: ") and needle in line


def test_usage_errors_exit_2() -> None:
    """Through the real command line, as users run it."""
    result = subprocess.run(
        [*KYB, "images", "frobnicate"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr
