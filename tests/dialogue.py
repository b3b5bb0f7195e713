"""Helpers for reading the terminal transcript in dialogue tests."""

from __future__ import annotations

import re

_OPTION = re.compile(r"^\s+(\d+)\. (.+)$", re.MULTILINE)


def options(transcript: str) -> dict[str, str]:
    """The numbered options of the last question in a transcript: label -> number."""
    last_block = transcript.strip().split("\n\n")[-1]
    return {label: number for number, label in _OPTION.findall(last_block)}


def number_of(transcript: str, label_part: str) -> str:
    """The number to type for the option whose label contains `label_part`."""
    for label, number in options(transcript).items():
        if label_part in label:
            return number
    raise AssertionError(f"no option containing {label_part!r} in:\n{transcript}")
