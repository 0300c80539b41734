"""The Alpaca-compatible trading API (/v2) over real HTTP: per-route latency and account reads/s.

Run: ``.venv/bin/python bench/alpaca.py [--database-url URL] [--orders N]`` (about 30-60 s; one
line per figure). Without ``--database-url`` a throwaway PostgreSQL database
``propdesk_bench_alpaca_<pid>`` is created on the server at ``PROPDESK_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), migrated, measured and dropped; if that
server is unreachable, a temporary SQLite file is used instead. A given URL is migrated and left in
place (the benchmark only adds an account, its key pair, its orders and quotes).

The server is the production one, ``python -m propdesk serve`` (uvicorn, one worker, access log
on), in a subprocess on a free loopback port, rather than uvicorn in a thread as the contract tests
do: the same composition root (``create_app(build_context(settings))``) and, above all, its own
interpreter, so the client threads of the concurrent figure do not compete with the server for one
GIL. Being a subprocess, it takes its settings from the environment: every ``PROPDESK_*`` variable
of the caller is dropped and the server gets the database URL, ``PROPDESK_FORCED_OUTCOMES=true``
and ``PROPDESK_TRADING_API_RATE_LIMIT=1000000000`` -- the equivalent of building its context with
``Settings(trading_api_rate_limit=10**9)``, because the default limit (200 requests a minute per
key, as Alpaca's) would otherwise answer 429 after the first 200 requests. Its clock is the real
UTC clock (the context's default); it runs in a scratch directory so no stray ``.env`` applies.

Before the server starts, the benchmark opens a ``paper`` account ($100,000, Reg T 2x, fills at
the NBBO far side) with a key pair, and writes a quote for AAPL, MSFT, NVDA and AMZN stamped with
its context's clock (the same real UTC clock); the quotes are written again before every figure so
they stay fresh. Whatever the hour, the orders behave the same: the resting orders are GTC limit
buys priced 10% below the bid (taken and left open whether the NYSE is open or closed), and the
filling ones are market orders with a ``pd-fill-`` client order id (filled at once at the quote's
far side, in or out of session). Before the figures the account buys one share of each symbol, so
the positions and the account have something to mark.

Every figure uses one ``httpx.Client`` (keep-alive) and ``--orders`` N requests, after N/10
untimed ones, and checks every answer (status code, order status, fill price), so a broken API
fails the benchmark instead of timing its errors:

1. ``POST /v2/orders``, a resting limit buy: p50/p99 (they accumulate, up to 1.1 N open orders,
   and an order's intake reads every open order of the account, so this grows with N);
2. ``DELETE /v2/orders/{id}`` of each of them (204), oldest first: p50/p99;
3. ``POST /v2/orders``, a ``pd-fill-`` market buy of one AAPL share then its sale (2N fills): p50/p99;
4. ``GET /v2/account``: p50/p99;
5. ``GET /v2/orders?status=all&limit=100`` over the ~1,000 orders the steps above left (100 each);
6. ``GET /v2/positions`` (4 positions): p50/p99;
7. ``GET /v2/account`` from ``--clients`` threads (default 4, one client each) for ``--seconds``
   (default 5): requests/s.

The server, the database and the clients share this machine's cores; the figures are a capacity
guide, not a latency SLA.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
from harness import database, ms, server
from sqlalchemy.engine import Engine, make_url

from propdesk.model.ids import AccountId
from propdesk.model.market import Quote
from propdesk.services.access import api_keys
from propdesk.services.access.api_keys import KeyPair
from propdesk.services.accounts import lifecycle
from propdesk.services.context import ServiceContext
from propdesk.settings import Settings
from propdesk.store.engine import create_engine_for
from propdesk.store.uow import UnitOfWork

RATE_LIMIT = 10**9  # requests a minute per key: never reached, so no 429 is timed
# (bid, ask) of each symbol; the account holds one share of each, and trades AAPL.
QUOTES = {
    "AAPL": (Decimal("190.00"), Decimal("190.02")),
    "MSFT": (Decimal("400.00"), Decimal("400.04")),
    "NVDA": (Decimal("120.00"), Decimal("120.01")),
    "AMZN": (Decimal("180.00"), Decimal("180.02")),
}
SYMBOL = "AAPL"
T = TypeVar("T")
RESTING_LIMIT = str(QUOTES[SYMBOL][0] * Decimal("0.9"))  # 171.000: far below the market, never fills


def p50_p99(values: list[float]) -> str:
    return f"p50 {ms(values, 50):.2f} ms, p99 {ms(values, 99):.2f} ms"


def open_paper_account(ctx: ServiceContext) -> KeyPair:
    """A started ``paper`` account and a key pair for it."""
    row = lifecycle.create_account(ctx, lifecycle.NewAccount(preset="paper"))
    lifecycle.start(ctx, AccountId(row.id))
    return api_keys.create_key(ctx.engine, AccountId(row.id), clock=ctx.clock)


def write_quotes(ctx: ServiceContext) -> None:
    """A quote for every symbol, stamped now by the context's clock."""
    now = ctx.clock()
    with UnitOfWork(ctx.engine) as uow:
        uow.prices.write_quotes(
            [Quote(symbol=s, time=now, bid=bid, ask=ask) for s, (bid, ask) in QUOTES.items()],
            source="bench",
        )
        uow.commit()


# --- the figures ---------------------------------------------------------------------------------


def server_env(url: str) -> dict[str, str]:
    """The server's environment: none of ours, the database, no rate limit, forced outcomes on."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROPDESK_")}
    return env | {
        "PROPDESK_DATABASE_URL": url,
        "PROPDESK_TRADING_API_RATE_LIMIT": str(RATE_LIMIT),
        "PROPDESK_FORCED_OUTCOMES": "true",
    }


def key_headers(keys: KeyPair) -> dict[str, str]:
    return {"APCA-API-KEY-ID": keys.key_id, "APCA-API-SECRET-KEY": keys.secret_key}


def call(
    http: httpx.Client, method: str, path: str, expect: int, **kwargs: Any
) -> tuple[float, httpx.Response]:
    """One request, timed; any other status than ``expect`` stops the benchmark."""
    started = time.perf_counter()
    response = http.request(method, path, **kwargs)
    elapsed = time.perf_counter() - started
    if response.status_code != expect:
        raise RuntimeError(f"{method} {path}: {response.status_code} (expected {expect}): {response.text}")
    return elapsed, response


def repeat(n: int, step: Callable[[int], T]) -> list[T]:
    """``step(i)`` for n/10 untimed warm-up rounds, then n timed ones; what the timed ones returned."""
    warm = n // 10
    results = [step(i) for i in range(warm + n)]
    return results[warm:]


def market_order(http: httpx.Client, symbol: str, side: str, client_order_id: str) -> float:
    """A ``pd-fill-`` market order for one share, checked filled at the quote's far side."""
    body = {
        "symbol": symbol,
        "qty": "1",
        "side": side,
        "type": "market",
        "time_in_force": "day",
        "client_order_id": f"pd-fill-{client_order_id}",
    }
    seconds, response = call(http, "POST", "/v2/orders", 200, json=body)
    order = response.json()
    bid, ask = QUOTES[symbol]
    expected = ask if side == "buy" else bid
    filled = (order["status"], order["filled_qty"], Decimal(order["filled_avg_price"] or "NaN"))
    if filled != ("filled", "1", expected):
        raise RuntimeError(f"a pd-fill- market {side} did not fill one share at {expected}: {order}")
    return seconds


@dataclass
class Figures:
    submits: list[float]
    cancels: list[float]
    fills: list[float]
    account: list[float]
    listing: list[float]
    positions: list[float]
    listed: int


def single_client(base: str, keys: KeyPair, ctx: ServiceContext, n: int) -> Figures:
    with httpx.Client(base_url=base, headers=key_headers(keys), timeout=30) as http:
        for symbol in QUOTES:  # something to hold, mark and list
            market_order(http, symbol, "buy", f"hold-{symbol}")

        write_quotes(ctx)
        resting: list[str] = []

        def submit(i: int) -> float:
            body = {
                "symbol": SYMBOL,
                "qty": "1",
                "side": "buy",
                "type": "limit",
                "time_in_force": "gtc",
                "limit_price": RESTING_LIMIT,
            }
            seconds, response = call(http, "POST", "/v2/orders", 200, json=body)
            order = response.json()
            if order["status"] not in ("new", "accepted") or order["filled_qty"] != "0":
                raise RuntimeError(f"a limit buy below the market did not rest: {order}")
            resting.append(order["id"])
            return seconds

        submits = repeat(n, submit)
        cancels = repeat(n, lambda i: call(http, "DELETE", f"/v2/orders/{resting[i]}", 204)[0])
        _, response = call(http, "GET", "/v2/orders", 200, params={"status": "open", "limit": 500})
        if response.json():
            raise RuntimeError(f"{len(response.json())} orders still open after every cancel")

        write_quotes(ctx)

        def round_trip(i: int) -> tuple[float, float]:
            bought = market_order(http, SYMBOL, "buy", f"b{i}")
            return bought, market_order(http, SYMBOL, "sell", f"s{i}")

        fills = [seconds for pair in repeat(n, round_trip) for seconds in pair]

        write_quotes(ctx)
        account = repeat(n, lambda i: call(http, "GET", "/v2/account", 200)[0])
        _, response = call(http, "GET", "/v2/account", 200)
        if response.json()["status"] != "ACTIVE":
            raise RuntimeError(f"the account is not active: {response.json()}")

        placed = len(QUOTES) + len(resting) + 2 * (n + n // 10)  # warm-up round trips included
        listed = min(100, placed)

        def listing_step(i: int) -> float:
            seconds, response = call(http, "GET", "/v2/orders", 200, params={"status": "all", "limit": 100})
            if len(response.json()) != listed:
                raise RuntimeError(
                    f"GET /v2/orders?status=all&limit=100 listed {len(response.json())}, not {listed}"
                )
            return seconds

        listing = repeat(n, listing_step)

        def positions_step(i: int) -> float:
            seconds, response = call(http, "GET", "/v2/positions", 200)
            held = {p["symbol"]: p["qty"] for p in response.json()}
            if held != dict.fromkeys(QUOTES, "1"):
                raise RuntimeError(f"positions after the round trips: {held}, expected one share of each")
            return seconds

        positions = repeat(n, positions_step)
        return Figures(submits, cancels, fills, account, listing, positions, listed)


def concurrent_reads(base: str, keys: KeyPair, clients: int, seconds: float) -> tuple[int, int, float]:
    """``clients`` threads GET /v2/account for ``seconds``: (answers, errors, elapsed seconds)."""
    counts = [0] * clients
    errors = [0] * clients
    start = threading.Barrier(clients + 1)
    stop = threading.Event()

    def client(index: int) -> None:
        with httpx.Client(base_url=base, headers=key_headers(keys), timeout=30) as http:
            http.get("/v2/account")  # open the connection before the clock starts
            start.wait(timeout=60)
            while not stop.is_set():
                if http.get("/v2/account").status_code == 200:
                    counts[index] += 1
                else:
                    errors[index] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait(timeout=60)
    began = time.perf_counter()
    time.sleep(seconds)  # the measurement window, not a synchronization
    stop.set()
    elapsed = time.perf_counter() - began  # requests still in flight at the stop are not counted
    for thread in threads:
        thread.join(timeout=60)
    return sum(counts), sum(errors), elapsed


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", help="measure this database (default: a scratch PostgreSQL one)")
    parser.add_argument("--orders", type=int, default=300, help="timed requests per figure (default 300)")
    parser.add_argument("--clients", type=int, default=4, help="threads of the concurrent figure (default 4)")
    parser.add_argument(
        "--seconds", type=float, default=5, help="length of the concurrent figure (default 5)"
    )
    args = parser.parse_args()
    n = max(2, args.orders)

    with database(args.database_url, "alpaca") as url, tempfile.TemporaryDirectory() as tmp:
        engine: Engine = create_engine_for(url)
        try:
            # The setup context: the real UTC clock, as the server's.
            ctx = ServiceContext(
                engine=engine, settings=Settings(database_url=url, trading_api_rate_limit=RATE_LIMIT)
            )
            keys = open_paper_account(ctx)
            write_quotes(ctx)
            with server(Path(tmp), server_env(url)) as base:
                session = httpx.get(f"{base}/v2/clock", headers=key_headers(keys), timeout=10).json()
                print(
                    f"propdesk Alpaca /v2 benchmark: {os.cpu_count()} CPUs, {engine.dialect.name} "
                    f"({make_url(url).database}); python -m propdesk serve, 1 worker; "
                    f"NYSE {'open' if session['is_open'] else 'closed'}; {n} timed requests per figure"
                )
                f = single_client(base, keys, ctx, n)
                print(f"POST /v2/orders, resting GTC limit buy: {p50_p99(f.submits)}")
                print(f"DELETE /v2/orders/{{id}} (204): {p50_p99(f.cancels)}")
                print(f"POST /v2/orders, pd-fill- market buy/sell ({len(f.fills)} fills): {p50_p99(f.fills)}")
                print(f"GET /v2/account: {p50_p99(f.account)}")
                print(f"GET /v2/orders?status=all&limit=100 ({f.listed} orders listed): {p50_p99(f.listing)}")
                print(f"GET /v2/positions ({len(QUOTES)} positions): {p50_p99(f.positions)}")
                answers, errors, elapsed = concurrent_reads(base, keys, args.clients, args.seconds)
                if errors:
                    raise RuntimeError(f"{errors} GET /v2/account answers were not 200 under load")
                print(
                    f"GET /v2/account, {args.clients} concurrent clients: {answers / elapsed:,.0f} requests/s "
                    f"({answers:,} in {elapsed:.1f} s, 0 errors)"
                )
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
