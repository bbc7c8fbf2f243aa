"""The controller manager's controller flags: Go durations, CIDRs, defaults."""

from __future__ import annotations

import argparse

import pytest

from kybernetes.cli.controlleroptions import (
    DEFAULT_OPTIONS,
    add_controller_flags,
    controller_options,
)
from kybernetes.cli.flagtypes import duration


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_controller_flags(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("40s", 40.0), ("1m30s", 90.0), ("500ms", 0.5), ("2h", 7200.0), ("1.5", 1.5)],
)
def test_durations(text: str, seconds: float) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "4d", "1m 2s", "-"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        duration(text)


def test_defaults_are_kube_controller_managers() -> None:
    options = controller_options(parse())
    assert options == DEFAULT_OPTIONS
    assert (options.node_monitor_grace_period, options.cluster_cidr) == (40.0, "10.42.0.0/16")
    assert (options.node_cidr_mask_size, options.terminated_pod_gc_threshold) == (24, 12500)


def test_flags_set_the_options() -> None:
    options = controller_options(
        parse("--node-monitor-grace-period", "3s", "--cluster-cidr", "10.50.0.1/16")
    )
    assert options.node_monitor_grace_period == 3.0
    assert options.cluster_cidr == "10.50.0.0/16"
    with pytest.raises(SystemExit):
        parse("--cluster-cidr", "nonsense")
