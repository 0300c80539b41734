"""``/healthz``: liveness, database reachability and the mark-to-market heartbeat (no token)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends
from fastapi.responses import JSONResponse

from propdesk.api.auth import context
from propdesk.api.routing import api_router
from propdesk.services.context import ServiceContext
from propdesk.services.prop import views

router = api_router(tags=["health"])


@router.get("/healthz")
def healthz(ctx: Annotated[ServiceContext, Depends(context)]) -> JSONResponse:
    try:
        with ctx.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        database = "ok"
    except sa.exc.SQLAlchemyError:
        database = "unreachable"
    status = 200 if database == "ok" else 503
    return JSONResponse(
        {
            "status": "ok" if status == 200 else "degraded",
            "database": database,
            "markToMarket": views.heartbeat(ctx),
        },
        status_code=status,
    )
