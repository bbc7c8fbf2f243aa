"""argparse types shared by the `kyb` commands' flags."""

from __future__ import annotations

import argparse

from kybernetes.api.duration import parse_duration


def duration(text: str) -> float:
    """Seconds of a Go duration (`40s`, `1m30s`, `500ms`) or of a plain number."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}") from None
