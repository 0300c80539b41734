"""The options ``propdesk demo`` and ``propdesk backtest`` share: which shipped symbols, which days."""

from __future__ import annotations

from typing import Annotated

import typer

Symbols = Annotated[str, typer.Option(help="Comma-separated shipped symbols (NVDA, ORCL, YHOO).")]
Start = Annotated[str, typer.Option(help="First day of the replay (YYYY-MM-DD).")]
End = Annotated[str, typer.Option(help="Last day of the replay (YYYY-MM-DD).")]


def symbols_of(text: str) -> list[str]:
    """The symbols of a comma-separated list, upper-cased, blanks dropped."""
    return [s.strip().upper() for s in text.split(",") if s.strip()]
