"""Structural decoding benchmark: microseconds to check (and prune) one object.

Usage: .venv/bin/python benchmarks/structural.py [--rounds N]

Every write to the API server walks the request body against its kind's schema once
(`kybernetes.api.structural.check`). The objects are the full Pod and Deployment of
the unit tests (spec, status, managedFields). Parsing the same JSON with orjson is
printed beside as the floor: a decode step can hardly be cheaper than reading the bytes.
"""

from __future__ import annotations

import argparse
import copy
import sys
import timeit
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson
from tests.unit.api.examples import EXAMPLES

from kybernetes.api.schemanode import SchemaNode
from kybernetes.api.structural import check

KINDS = [("", "v1", "Pod"), ("apps", "v1", "Deployment"), ("", "v1", "Service")]


def best_us(fn: Any, rounds: int) -> float:
    """The best of 5 runs of `rounds` calls, in microseconds per call."""
    return min(timeit.repeat(fn, number=rounds, repeat=5)) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5000)
    args = parser.parse_args()
    print(f"{'object':<12}{'bytes':>7}{'check µs':>11}{'prune µs':>11}{'orjson.loads µs':>17}")
    for gvk in KINDS:
        obj = copy.deepcopy(EXAMPLES[gvk])
        node = SchemaNode.for_kind(*gvk)
        assert node is not None
        findings = check(obj, node)
        assert not findings.unknown_fields and not findings.decode_errors, findings
        raw = orjson.dumps(obj)
        checked = best_us(lambda: check(obj, node), args.rounds)  # noqa: B023
        pruned = best_us(lambda: check(obj, node, prune=True), args.rounds)  # noqa: B023
        parsed = best_us(lambda: orjson.loads(raw), args.rounds)  # noqa: B023
        print(f"{gvk[2]:<12}{len(raw):>7}{checked:>11.1f}{pruned:>11.1f}{parsed:>17.1f}")


if __name__ == "__main__":
    main()
