"""``propdesk keys create | list | revoke``: Alpaca-style key pairs for an account.

A pair is what alpaca-py sends as ``APCA-API-KEY-ID`` / ``APCA-API-SECRET-KEY``. The secret is
printed once and stored only as a hash, so a lost secret means a new pair. Every running server
process refuses a revoked pair, and closes its open ``/stream`` connections, within a second.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from propdesk.cli.accounts import fail
from propdesk.model.ids import AccountId


def register(cli: typer.Typer) -> None:
    keys = typer.Typer(help="API key pairs for the Alpaca-compatible /v2 API.", no_args_is_help=True)
    cli.add_typer(keys, name="keys")

    @keys.command("create")
    def create(
        account: Annotated[str, typer.Option(help="The account the pair trades (one account per pair).")],
        as_json: Annotated[
            bool, typer.Option("--json", help='Print {"account_id", "key_id", "secret_key"}.')
        ] = False,
    ) -> None:
        """Print a new key pair once; only the secret's hash is stored."""
        from propdesk.bootstrap import build_context
        from propdesk.services.access.api_keys import create_key
        from propdesk.settings import load_settings
        from propdesk.store.errors import AccountNotFound

        ctx = build_context(load_settings())
        try:
            pair = create_key(ctx.engine, AccountId(account), clock=ctx.clock)
        except AccountNotFound:
            fail(f"no account {account}")
        finally:
            ctx.engine.dispose()
        if as_json:
            typer.echo(
                json.dumps(
                    {"account_id": pair.account_id, "key_id": pair.key_id, "secret_key": pair.secret_key}
                )
            )
            return
        typer.echo(
            "The secret key is shown only now: propdesk stores its hash and cannot show it again.", err=True
        )
        typer.echo(f"account:    {pair.account_id}")
        typer.echo(f"key id:     {pair.key_id}")
        typer.echo(f"secret key: {pair.secret_key}")

    @keys.command("list")
    def list_(
        account: Annotated[str, typer.Option(help="The account whose pairs to list.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    ) -> None:
        """The account's key ids with when they were created and revoked (never a secret)."""
        from propdesk.bootstrap import build_context
        from propdesk.services.access.api_keys import list_keys
        from propdesk.settings import load_settings
        from propdesk.store.errors import AccountNotFound

        ctx = build_context(load_settings())
        try:
            found = list_keys(ctx.engine, AccountId(account))
        except AccountNotFound:
            fail(f"no account {account}")
        finally:
            ctx.engine.dispose()
        if as_json:
            rows = [
                {
                    "key_id": k.key_id,
                    "account_id": k.account_id,
                    "created_at": k.created_at.isoformat(),
                    "revoked_at": None if k.revoked_at is None else k.revoked_at.isoformat(),
                }
                for k in found
            ]
            typer.echo(json.dumps(rows))
            return
        for k in found:
            state = "active" if k.revoked_at is None else f"revoked {k.revoked_at.isoformat()}"
            typer.echo(f"{k.key_id}  created {k.created_at.isoformat()}  {state}")
        if not found:
            typer.echo(f"account {account} has no key pairs", err=True)

    @keys.command("revoke")
    def revoke(key_id: Annotated[str, typer.Argument(help="The key id (PK…) to revoke.")]) -> None:
        """Revoke a pair for good; the account and its other pairs are unaffected."""
        from propdesk.bootstrap import build_context
        from propdesk.services.access.api_keys import revoke_key
        from propdesk.services.errors import NotFound
        from propdesk.settings import load_settings

        ctx = build_context(load_settings())
        try:
            revoke_key(ctx.engine, key_id, clock=ctx.clock)
        except NotFound as exc:
            fail(exc.message)
        finally:
            ctx.engine.dispose()
        typer.echo(f"revoked {key_id}")
