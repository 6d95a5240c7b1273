"""Shared by the script corpora (conformance, errors): header lines and known differences."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def header(text: str, key: str) -> str | None:
    """The value of a leading `# key: value` comment line, if the script has one."""
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith(f"# {key}:"):
            return line.split(":", 1)[1].strip()
    return None


def corpus_params(cases: list[Path], known: dict[str, str]) -> list[Any]:
    """pytest params for the cases; those in `known` are xfail with their reason."""
    return [pytest.param(c, marks=pytest.mark.xfail(reason=known[c.stem], strict=False))
            if c.stem in known else c for c in cases]
