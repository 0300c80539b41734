"""Paging of time-ordered reads, shared by every repository that lists rows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Page:
    """A window of a time-ordered list: ``limit`` rows after skipping ``offset``."""

    limit: int = 100
    offset: int = 0
