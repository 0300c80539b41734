"""The ``propdesk`` command line: thin commands that call services and print with rich.

Each module in this package adds its commands through ``register(cli)``; :func:`build_cli`
discovers them, so a new command group is a new module and nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer


def build_cli() -> typer.Typer:
    """The command tree; built on call so that importing this package creates nothing."""
    cli = typer.Typer(help="propdesk: paper-trading and prop-firm account engine.", no_args_is_help=True)
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{module.name}").register(cli)
    return cli


def main() -> None:
    build_cli()()
