"""``propdesk accounts create | list``: paper accounts from the shell, several per user.

``create`` prints only the new account's id on stdout (``--json``: one object), so scripts can
capture it; what the account is goes to stderr. Bad input exits with code 2 and a one-line error
on stderr, having created nothing.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, NoReturn

import typer


def fail(message: str) -> NoReturn:
    """One line on stderr and exit code 2 (the usage-error code, as for a bad option)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def parse_amount(text: str, option: str) -> Decimal:
    """An amount in the strict number grammar (:func:`propdesk.model.numbers.parse_decimal`), above 0."""
    from propdesk.model.numbers import NotExactError, parse_decimal

    try:
        return parse_decimal(text, field=option, positive=True, maximum=None)
    except NotExactError as exc:
        fail(f"{option} must be a positive number: {str(exc).removeprefix(option + ': ')}")


def register(cli: typer.Typer) -> None:
    accounts = typer.Typer(help="Accounts: create and start paper accounts, list them.", no_args_is_help=True)
    cli.add_typer(accounts, name="accounts")

    @accounts.command("create")
    def create(
        preset: Annotated[str, typer.Option(help="Execution policy preset: paper or audition.")] = "paper",
        starting_cash: Annotated[
            str | None, typer.Option(help="Starting balance (default: the preset's, 100000).")
        ] = None,
        user: Annotated[
            str | None, typer.Option(help="Owner's user id; created if new. One user may own many accounts.")
        ] = None,
        name: Annotated[str | None, typer.Option(help="Display name of the user if it is created.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the account as JSON.")] = False,
    ) -> None:
        """Create and start an account; prints its id (create a key pair with `propdesk keys create`)."""
        from propdesk.bootstrap import build_context
        from propdesk.model.text import TextError, check_text
        from propdesk.services.accounts.lifecycle import check_starting_balance
        from propdesk.services.alpaca.paper_accounts import create_paper_account
        from propdesk.services.errors import ServiceError
        from propdesk.settings import load_settings

        cash = None if starting_cash is None else parse_amount(starting_cash, "--starting-cash")
        try:
            for option, value in (("--user", user), ("--name", name)):
                if value is not None:
                    check_text(value, field=option)
        except TextError as exc:
            fail(str(exc))
        if name is not None and user is None:
            fail("--name names the user: give --user as well")
        ctx = build_context(load_settings())
        try:
            if cash is not None:  # before anything is written: a user is created first otherwise
                check_starting_balance(ctx, cash, "--starting-cash")
            account = create_paper_account(
                ctx, preset=preset, starting_cash=cash, owner_user_id=user, user_name=name
            )
        except ServiceError as exc:
            details = "; ".join(f"{e['field']}: {e['message']}" for e in exc.details.get("errors", []))
            fail(f"{exc.message} ({details})" if details else exc.message)
        finally:
            ctx.engine.dispose()
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "account_id": account.account_id,
                        "status": account.status.value,
                        "starting_cash": str(account.starting_cash),
                        "currency": account.currency,
                        "preset": account.preset,
                        "owner_user_id": account.owner_user_id,
                    }
                )
            )
            return
        owner = f", owner {account.owner_user_id}" if account.owner_user_id else ""
        typer.echo(
            f"{account.status.value} {account.preset} account, {account.starting_cash} "
            f"{account.currency}{owner}:",
            err=True,
        )
        typer.echo(account.account_id)

    @accounts.command("list")
    def list_(
        user: Annotated[str | None, typer.Option(help="Only this user's accounts.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    ) -> None:
        """Accounts, oldest first: id, status, equity, currency, owner."""
        from propdesk.bootstrap import build_context
        from propdesk.services.alpaca.paper_accounts import list_accounts
        from propdesk.settings import load_settings

        ctx = build_context(load_settings())
        try:
            found = list_accounts(ctx, user)
        finally:
            ctx.engine.dispose()
        if as_json:
            rows = [
                {
                    "account_id": a.id,
                    "status": a.status.value,
                    "equity": str(a.equity),
                    "cash": str(a.cash),
                    "starting_cash": str(a.starting_cash),
                    "currency": a.currency,
                    "owner_user_id": a.owner_user_id,
                    "mode": a.mode,
                    "created_at": a.created_at.isoformat(),
                }
                for a in found
            ]
            typer.echo(json.dumps(rows))
            return
        for a in found:
            typer.echo(
                f"{a.id}  {a.status.value:<10} {a.equity:>18} {a.currency:<5} {a.owner_user_id or '-'}"
            )
        if not found:
            typer.echo("no accounts", err=True)
