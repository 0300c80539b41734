"""``propdesk serve``: the HTTP API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer


def register(cli: typer.Typer) -> None:
    @cli.command()
    def serve(
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
        workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only for more than 1).")] = 1,
    ) -> None:
        """Serve the API on PROPDESK_DATABASE_URL (migrations are applied first)."""
        import uvicorn

        from propdesk.api.app import create_app
        from propdesk.bootstrap import build_context
        from propdesk.settings import load_settings

        settings = load_settings()
        if workers > 1:
            build_context(settings)  # migrate once, before the workers start
            uvicorn.run("propdesk.api.asgi:app", host=host, port=port, workers=workers, factory=False)
            return
        uvicorn.run(create_app(build_context(settings)), host=host, port=port)
