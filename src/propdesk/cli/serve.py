"""``propdesk serve``: the HTTP API under uvicorn, with the embedded scheduler of daily jobs.

Unless ``PROPDESK_SCHEDULER=off``, the server also runs the daily jobs
(:mod:`propdesk.jobs.scheduler`): with one worker process the scheduler thread starts and stops
with the app's lifespan; with several it runs in the supervising process. Either way a lease row
in the database makes sure only one server of a deployment runs the schedule.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from fastapi import FastAPI

    from propdesk.services.context import ServiceContext


def embed_scheduler(app: FastAPI, ctx: ServiceContext) -> None:
    """Start the scheduler thread when ``app`` starts and stop it when it shuts down."""
    from propdesk.jobs.scheduler import Scheduler

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        scheduler = Scheduler(ctx)
        scheduler.start()
        try:
            async with inner(application) as state:
                yield state
        finally:
            scheduler.stop()

    app.router.lifespan_context = lifespan


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
        from propdesk.jobs.scheduler import Scheduler
        from propdesk.settings import load_settings

        settings = load_settings()
        embedded = settings.scheduler == "embedded"
        if workers > 1:
            ctx = build_context(settings)  # migrate once, before the workers start
            scheduler = Scheduler(ctx) if embedded else None
            if scheduler is not None:
                scheduler.start()
            try:
                uvicorn.run("propdesk.api.asgi:app", host=host, port=port, workers=workers, factory=False)
            finally:
                if scheduler is not None:
                    scheduler.stop()
            return
        ctx = build_context(settings)
        app = create_app(ctx)
        if embedded:
            embed_scheduler(app, ctx)
        uvicorn.run(app, host=host, port=port)
