"""/v2 orders (Alpaca-compatible): place, list, read, replace and cancel the caller's orders.

The key pair names one account; every route reads or changes that account's orders only, so
another account's order id is simply not found. Statuses are Alpaca's: 200 with the order on
create (not 201), 204 with no body on a single cancel, 207 with one entry per order on cancel-all.
The order engine's refusals keep their HTTP status and get Alpaca's codes (:mod:`.errors`); the
three that alpaca-py users match on get Alpaca's own wording too (see :func:`_as_alpaca`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Response
from fastapi.responses import JSONResponse

from propdesk.api.alpaca import present
from propdesk.api.alpaca.auth import authenticated
from propdesk.api.alpaca.errors import ERROR_RESPONSES, FORBIDDEN, NOT_FOUND, UNPROCESSABLE, AlpacaError
from propdesk.api.alpaca.requests import OrderIn, ReplaceIn, order_symbol
from propdesk.api.alpaca.wire import dec, parse_bool
from propdesk.api.auth import context
from propdesk.api.routing import api_router
from propdesk.execution.order_book.requests import OrderRequest
from propdesk.model.ids import AccountId, OrderId
from propdesk.model.instruments import AssetClass
from propdesk.model.orders import Order, OrderClass, Side
from propdesk.services.access.api_keys import KeyPrincipal
from propdesk.services.alpaca import trading_account
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Forbidden, Invalid, NotFound
from propdesk.services.orders import commands as orders

router = api_router(prefix="/v2", tags=["alpaca"], responses=ERROR_RESPONSES)
Ctx = Annotated[ServiceContext, Depends(context)]
Caller = Annotated[KeyPrincipal, Depends(authenticated)]
Nested = Annotated[str | None, Query(description="true or false, any case: put legs under their order")]

# Alpaca's asset_class filter values; futures are shown as us_equity (see present.py).
_ASSET_CLASSES = {
    "us_equity": [AssetClass.US_EQUITY, AssetClass.FUTURE],
    "us_option": [AssetClass.US_OPTION],
    "crypto": [AssetClass.CRYPTO],
}


@contextmanager
def _as_alpaca(
    ctx: ServiceContext, account_id: AccountId, request: OrderRequest | None = None
) -> Iterator[None]:
    """Alpaca's wording for the refusals clients match on; ``reason`` keeps propdesk's code."""
    try:
        yield
    except NotFound as exc:
        if exc.code != "order_not_found":
            raise
        raise AlpacaError(404, NOT_FOUND, "order not found", {"reason": exc.code}) from None
    except Invalid as exc:
        if exc.code != "duplicate_client_order_id":
            raise
        raise AlpacaError(
            422, UNPROCESSABLE, "client_order_id must be unique", {"reason": exc.code, "detail": exc.message}
        ) from None
    except Forbidden as exc:
        if exc.code != "insufficient_buying_power":
            raise
        extra: dict[str, Any] = {"reason": exc.code, "detail": exc.message}
        if request is not None:
            figures = trading_account.shortfall(ctx, account_id, request)
            extra["buying_power"] = dec(figures.buying_power)
            if figures.cost_basis is not None:
                extra["cost_basis"] = dec(figures.cost_basis)
        raise AlpacaError(403, FORBIDDEN, "insufficient buying power", extra) from None


def _shown(order: Order, legs: list[Order], nested: bool) -> dict[str, Any]:
    """An order with its legs when asked for (a multi-leg order always shows its legs)."""
    return present.order(order, legs, nested=nested or order.order_class is OrderClass.MLEG)


@router.post("/orders", summary="Place an order (200 with the order)")
def submit(body: OrderIn, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    """Place an order; resending the same order with the same ``client_order_id`` returns the stored
    one, the same id with a different order is a 422."""
    account_id = caller.account_id
    if body.is_mleg:
        with _as_alpaca(ctx, account_id):
            result = trading_account.submit_spread(ctx, account_id, body.spread_request(ctx.ids))
    else:
        request = body.order_request(ctx.ids)
        with _as_alpaca(ctx, account_id, request):
            result = trading_account.submit_order(ctx, account_id, request)
    return present.order(result.order, result.legs)


def _when(name: str, value: str | None) -> datetime | None:
    """An RFC 3339 / ISO 8601 time or date from a query; a naive one is UTC (as alpaca-py means it)."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise Invalid("invalid_request", f"{name} must be an RFC 3339 time, not {value!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@router.get("/orders", summary="List orders")
def list_orders(
    ctx: Ctx,
    caller: Caller,
    status: Annotated[Literal["open", "closed", "all"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: Annotated[str | None, Query(description="placed after this time (exclusive)")] = None,
    until: Annotated[str | None, Query(description="placed before this time (exclusive)")] = None,
    direction: Annotated[Literal["asc", "desc"], Query()] = "desc",
    nested: Nested = None,
    symbols: Annotated[str | None, Query(description="comma-separated")] = None,
    side: Side | None = None,
    asset_class: Annotated[str | None, Query(description="us_equity, us_option, crypto or all")] = None,
    before_order_id: Annotated[OrderId | None, Query(max_length=64)] = None,
    after_order_id: Annotated[OrderId | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    """Orders, newest first unless ``direction=asc``; without ``nested`` a bracket's exits are listed
    as orders of their own, with it they sit under their entry's ``legs``."""
    classes: list[AssetClass] | None = None
    if asset_class not in (None, "", "all"):
        names = [name.strip() for name in asset_class.split(",") if name.strip()]
        unknown = [name for name in names if name not in _ASSET_CLASSES]
        if unknown:
            raise Invalid(
                "invalid_request", f"asset_class must be us_equity, us_option, crypto or all: {unknown[0]!r}"
            )
        classes = [c for name in names for c in _ASSET_CLASSES[name]]
    wanted = [order_symbol(s) for s in symbols.split(",") if s.strip()] if symbols else None
    roll_up = parse_bool("nested", nested)
    with _as_alpaca(ctx, caller.account_id):
        found = orders.list_orders(
            ctx,
            caller.account_id,
            status=status,
            symbols=wanted,
            side=side,
            asset_classes=classes,
            after=_when("after", after),
            until=_when("until", until),
            before_order_id=before_order_id,
            after_order_id=after_order_id,
            newest_first=direction == "desc",
            limit=limit,
            nested=roll_up,
        )
    return [_shown(order, legs, roll_up) for order, legs in found]


# Before /orders/{order_id}; the colon is Alpaca's (``/v2/orders:by_client_order_id``).
@router.get("/orders:by_client_order_id", summary="Get an order by its client order id")
def by_client_order_id(
    ctx: Ctx,
    caller: Caller,
    client_order_id: Annotated[str, Query(min_length=1, max_length=128)],
    nested: Nested = None,
) -> dict[str, Any]:
    try:
        order, legs = orders.get_by_client_id(ctx, caller.account_id, client_order_id)
    except NotFound as exc:
        raise AlpacaError(404, NOT_FOUND, "order not found", {"reason": exc.code}) from None
    return _shown(order, legs, parse_bool("nested", nested))


@router.get("/orders/{order_id}", summary="Get an order")
def get_order(order_id: OrderId, ctx: Ctx, caller: Caller, nested: Nested = None) -> dict[str, Any]:
    with _as_alpaca(ctx, caller.account_id):
        order, legs = orders.get_order(ctx, caller.account_id, order_id)
    return _shown(order, legs, parse_bool("nested", nested))


@router.patch("/orders/{order_id}", summary="Replace an order (200 with the new order)")
def replace_order(order_id: OrderId, body: ReplaceIn, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    """The new order (``replaces`` = the old id); the old one goes ``replaced``. Absent fields keep
    the old order's values."""
    with _as_alpaca(ctx, caller.account_id):
        new = trading_account.replace_order(ctx, caller.account_id, order_id, body.replace_request())
        order, legs = orders.get_order(ctx, caller.account_id, OrderId(new.id))
    return present.order(order, legs)


@router.delete("/orders/{order_id}", status_code=204, summary="Cancel an order (204, no body)")
def cancel_order(order_id: OrderId, ctx: Ctx, caller: Caller) -> Response:
    """Cancel an open order (and the exits held for it); 422 if it has already ended."""
    with _as_alpaca(ctx, caller.account_id):
        orders.cancel_order(ctx, caller.account_id, order_id)
    return Response(status_code=204)


@router.delete(
    "/orders",
    status_code=207,
    summary="Cancel every open order (207, one entry per order)",
    responses={207: {"description": '[{"id", "status": 200, "body": <order>}]'}},
)
def cancel_all(ctx: Ctx, caller: Caller) -> JSONResponse:
    canceled = orders.cancel_all(ctx, caller.account_id)
    return JSONResponse(
        [{"id": o.id, "status": 200, "body": present.order(o)} for o in canceled], status_code=207
    )
