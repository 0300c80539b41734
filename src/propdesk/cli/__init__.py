"""The ``propdesk`` command line: thin commands that call services and print with rich.

Each module in this package adds its commands through ``register(cli)``; :func:`build_cli`
discovers them, so a new command group is a new module and nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import typer
from typer.core import TyperGroup

from propdesk.model.text import escape_text, text_problem


class _CheckedArguments(TyperGroup):
    """The root command group: every argument of every command is checked before anything runs,
    so no control character (tab, line feed and carriage return aside, for free text such as a
    ``--reason``) and no lone surrogate (an argument that is not UTF-8) reaches a store."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's vendored click Context
        for arg in args:
            problem = text_problem(arg, free_text=True)
            if problem is not None:  # one line and exit code 2, as every bad input of the CLI
                typer.echo(f"error: argument {escape_text(arg)[:60]!r}: {problem}", err=True)
                raise typer.Exit(2)
        result: Any = super().parse_args(ctx, args)
        return list(result)


def build_cli() -> typer.Typer:
    """The command tree; built on call so that importing this package creates nothing."""
    cli = typer.Typer(
        help="propdesk: paper-trading and prop-firm account engine.",
        no_args_is_help=True,
        cls=_CheckedArguments,
    )
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{module.name}").register(cli)
    return cli


def main() -> None:
    build_cli()()
