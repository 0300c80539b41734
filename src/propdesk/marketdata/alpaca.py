# Over ~500 lines on purpose: one client, one retry and quota discipline for every Market Data endpoint.
"""Alpaca Market Data API client (httpx): latest quotes, trades and bars, and historical bars.

Endpoints (docs/marketdata.md, "Alpaca Data API client"): stocks under ``/v2/stocks``, crypto under
``/v1beta3/crypto/us``, option latest quotes under ``/v1beta1/options``. Historical bars follow
``next_page_token`` until it is null and merge the pages per symbol.

Exact numbers
    Bodies are decoded with ``json.loads(parse_float=Decimal)``, so ``172.62`` becomes
    ``Decimal("172.62")`` and never passes through a binary float; NaN and Infinity are refused.
    Every body is validated by a pydantic model before anything is returned. A malformed body
    (not JSON, a missing or mistyped field, an OHLC bar out of order, a symbol that was not
    asked for) raises :class:`AlpacaResponseError`, and since validation happens before
    anything is returned or logged, nothing from that response is stored.

Usable quotes
    Alpaca sends ``bp``/``ap`` = 0 when a side is empty. A one-sided or crossed quote has no
    mid, so it is left out of the result (logged at INFO): execution then sees the symbol as
    missing instead of guessing a price.

Rate limits
    After every response the client reads ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``
    (the UNIX time the quota refills). Before the next request, if no more than
    ``RetryPolicy.quota_reserve`` requests remain, it waits until the reset, so the quota is
    never run into (the reserve leaves room for another process sharing the keys). A 429 is
    retried after waiting until the reset (or, without the header, after the backoff); 5xx
    responses and network errors are retried with exponential backoff ``base × 2^attempt``
    capped at ``backoff_cap``. Every wait is capped at ``max_wait`` and goes through the
    injected ``sleep``, measured on the injected clock, so tests never really sleep. Other 4xx
    responses are not retried: the request itself is wrong.

Secrets
    The key pair is held as :class:`pydantic.SecretStr`, put on each request's headers and
    nowhere else: not on the httpx client, not in ``repr``, not in logs or error messages.

Access log
    A fetch made ``on_behalf_of`` a user records one row per symbol delivered (data type
    ``quote``, ``trade``, ``bar`` or ``bars``, the time on the client's clock, the source such
    as ``alpaca:iex``) once the response has been validated.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from propdesk.marketdata.alpaca_corporate_actions import ALPACA_TYPES, CorporateActionsPage, to_actions
from propdesk.marketdata.alpaca_http import (
    AlpacaCredentials,
    AlpacaDataError,
    AlpacaHTTPError,
    AlpacaRateLimitError,
    AlpacaResponseError,
    RateLimit,
    RetryPolicy,
    int_header,
    rfc3339,
)
from propdesk.marketdata.alpaca_wire import (
    BarsPage,
    LatestBars,
    LatestQuotes,
    LatestTrades,
    Trade,
    decode_json,
    symbol_kind,
    to_bar,
    to_quote,
    to_trade,
)
from propdesk.marketdata.clock import Clock, SystemClock, now_of
from propdesk.marketdata.sources import AccessLog
from propdesk.marketdata.timeframes import normalize_timeframe
from propdesk.model.market import Bar, Quote
from propdesk.store.corporate_actions import CorporateAction

log = logging.getLogger(__name__)

DEFAULT_DATA_URL = "https://data.alpaca.markets"
CRYPTO_LOCATION = "us"
OPTION_SYMBOLS_PER_REQUEST = 100
DEFAULT_RETRY = RetryPolicy()


_Model = TypeVar("_Model", bound=BaseModel)


class AlpacaDataClient:
    """A synchronous client of the Alpaca Market Data API; also a :class:`QuoteSource`.

    ``http`` may be passed to share a connection pool or configure proxies; ``clock`` measures
    the rate-limit reset and stamps access-log rows; ``sleep`` performs every wait.
    """

    def __init__(
        self,
        credentials: AlpacaCredentials,
        *,
        base_url: str = DEFAULT_DATA_URL,
        feed: str = "iex",
        option_feed: str = "indicative",
        http: httpx.Client | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        access_log: AccessLog | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: float = 10.0,
        source: str = "alpaca",
    ) -> None:
        self._credentials = credentials
        self._base_url = base_url.rstrip("/")
        self.feed = feed
        self.option_feed = option_feed
        self._own_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._sleep = sleep
        self._access_log = access_log
        self._retry = retry
        self._source = source
        self._lock = threading.Lock()
        self._rate = RateLimit(None, None, None)

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> Self:
        """A client from :class:`propdesk.settings.Settings` (keys, data URL and feed)."""
        key_id, secret = settings.alpaca_api_key_id, settings.alpaca_api_secret_key
        if key_id is None or secret is None:
            raise AlpacaDataError(
                "Alpaca keys are not configured: set PROPDESK_ALPACA_API_KEY_ID and "
                "PROPDESK_ALPACA_API_SECRET_KEY (or APCA_API_KEY_ID / APCA_API_SECRET_KEY)"
            )
        kwargs.setdefault("base_url", settings.alpaca_data_url)
        kwargs.setdefault("feed", settings.alpaca_data_feed)
        return cls(AlpacaCredentials(key_id, secret), **kwargs)

    def __repr__(self) -> str:
        return f"AlpacaDataClient(base_url={self._base_url!r}, feed={self.feed!r})"

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def name(self) -> str:
        """The source stored with quotes fetched by :meth:`latest_quotes`."""
        return f"{self._source}:{self.feed}"

    @property
    def rate_limit(self) -> RateLimit:
        with self._lock:
            return self._rate

    # --- transport ---------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {
            "APCA-API-KEY-ID": self._credentials.key_id.get_secret_value(),
            "APCA-API-SECRET-KEY": self._credentials.secret_key.get_secret_value(),
            "Accept": "application/json",
        }

    def _note_rate_limit(self, headers: httpx.Headers) -> None:
        remaining = int_header(headers, "X-RateLimit-Remaining")
        reset = int_header(headers, "X-RateLimit-Reset")
        if remaining is None and reset is None:
            return
        with self._lock:
            self._rate = RateLimit(
                int_header(headers, "X-RateLimit-Limit"),
                remaining,
                datetime.fromtimestamp(reset, UTC) if reset is not None else None,
            )

    def _seconds_until_reset(self) -> float | None:
        reset = self.rate_limit.reset
        if reset is None:
            return None
        wait = (reset - now_of(self._clock)).total_seconds()
        return wait if wait > 0 else None

    def _wait(self, seconds: float, why: str, path: str) -> None:
        seconds = min(seconds, self._retry.max_wait)
        log.info("alpaca %s: waiting %.3f s (%s)", path, seconds, why)
        self._sleep(seconds)

    def _respect_quota(self, path: str) -> None:
        """Wait for the reset when the last response left no more than the reserve."""
        rate = self.rate_limit
        if rate.remaining is None or rate.remaining > self._retry.quota_reserve:
            return
        wait = self._seconds_until_reset()
        if wait is not None:
            self._wait(wait, f"{rate.remaining} requests left until the quota resets", path)
        with self._lock:
            self._rate = RateLimit(rate.limit, None, None)  # unknown until the next response

    def _get(self, path: str, params: Mapping[str, str]) -> Any:
        """GET ``path`` and decode its JSON body, with the waits and retries described above."""
        url = f"{self._base_url}{path}"
        attempt = 0
        while True:
            self._respect_quota(path)
            try:
                response = self._http.get(url, params=dict(params), headers=self._headers())
            except httpx.TransportError as exc:
                if attempt >= self._retry.max_retries:
                    raise AlpacaDataError(
                        f"GET {path}: {type(exc).__name__} after {attempt + 1} attempts"
                    ) from None
                self._wait(self._retry.backoff(attempt), f"{type(exc).__name__}, retry {attempt + 1}", path)
                attempt += 1
                continue
            self._note_rate_limit(response.headers)
            status = response.status_code
            if status == 429 or status >= 500:
                if attempt >= self._retry.max_retries:
                    error = AlpacaRateLimitError if status == 429 else AlpacaHTTPError
                    raise error(path, status, f"{_error_message(response)} (after {attempt + 1} attempts)")
                until_reset = self._seconds_until_reset() if status == 429 else None
                wait = until_reset if until_reset is not None else self._retry.backoff(attempt)
                self._wait(wait, f"HTTP {status}, retry {attempt + 1}", path)
                attempt += 1
                continue
            if status != 200:
                raise AlpacaHTTPError(path, status, _error_message(response))
            try:
                return decode_json(response.content)
            except ValueError as exc:
                raise AlpacaResponseError(f"GET {path}: body is not valid JSON ({exc})") from None

    def _validated(self, path: str, model: type[_Model], body: Any) -> _Model:
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:5]
            )
            raise AlpacaResponseError(f"GET {path}: malformed response: {problems}") from None

    def _check_symbols(self, path: str, asked: Sequence[str], got: Mapping[str, object]) -> None:
        extra = sorted(set(got) - set(asked))
        if extra:
            raise AlpacaResponseError(f"GET {path}: response has symbols that were not asked for: {extra}")

    def _log_access(self, user: str | None, symbols: Sequence[str], data_type: str, source: str) -> None:
        if user is not None and self._access_log is not None and symbols:
            self._access_log.record(user, symbols, data_type=data_type, source=source, at=now_of(self._clock))

    # --- latest ------------------------------------------------------------------------------------

    @staticmethod
    def _symbols(symbols: Sequence[str]) -> list[str]:
        unique = sorted({s.strip().upper() for s in symbols if s.strip()})
        if not unique:
            raise ValueError("no symbols given")
        return unique

    def _latest_quotes(
        self, path: str, symbols: Sequence[str], params: dict[str, str], source: str, user: str | None
    ) -> dict[str, Quote]:
        wanted = self._symbols(symbols)
        body = self._get(path, {**params, "symbols": ",".join(wanted)})
        envelope = self._validated(path, LatestQuotes, body)
        self._check_symbols(path, wanted, envelope.quotes)
        try:
            converted = {s: to_quote(s, w) for s, w in envelope.quotes.items()}
        except ValueError as exc:
            raise AlpacaResponseError(f"GET {path}: malformed quote: {exc}") from None
        quotes = {s: q for s, q in converted.items() if q is not None}
        self._log_access(user, sorted(quotes), "quote", source)
        return quotes

    def latest_stock_quotes(
        self, symbols: Sequence[str], *, feed: str | None = None, on_behalf_of: str | None = None
    ) -> dict[str, Quote]:
        feed = feed or self.feed
        return self._latest_quotes(
            "/v2/stocks/quotes/latest", symbols, {"feed": feed}, f"{self._source}:{feed}", on_behalf_of
        )

    def latest_crypto_quotes(
        self, symbols: Sequence[str], *, on_behalf_of: str | None = None
    ) -> dict[str, Quote]:
        path = f"/v1beta3/crypto/{CRYPTO_LOCATION}/latest/quotes"
        return self._latest_quotes(path, symbols, {}, f"{self._source}:crypto", on_behalf_of)

    def latest_option_quotes(
        self, symbols: Sequence[str], *, feed: str | None = None, on_behalf_of: str | None = None
    ) -> dict[str, Quote]:
        feed = feed or self.option_feed
        wanted = self._symbols(symbols)
        quotes: dict[str, Quote] = {}
        for start in range(0, len(wanted), OPTION_SYMBOLS_PER_REQUEST):
            chunk = wanted[start : start + OPTION_SYMBOLS_PER_REQUEST]
            quotes |= self._latest_quotes(
                "/v1beta1/options/quotes/latest",
                chunk,
                {"feed": feed},
                f"{self._source}:{feed}",
                on_behalf_of,
            )
        return quotes

    def _latest_trades(
        self, path: str, symbols: Sequence[str], params: dict[str, str], source: str, user: str | None
    ) -> dict[str, Trade]:
        wanted = self._symbols(symbols)
        envelope = self._validated(
            path, LatestTrades, self._get(path, {**params, "symbols": ",".join(wanted)})
        )
        self._check_symbols(path, wanted, envelope.trades)
        trades = {s: to_trade(s, w) for s, w in envelope.trades.items()}
        self._log_access(user, sorted(trades), "trade", source)
        return trades

    def latest_stock_trades(
        self, symbols: Sequence[str], *, feed: str | None = None, on_behalf_of: str | None = None
    ) -> dict[str, Trade]:
        feed = feed or self.feed
        return self._latest_trades(
            "/v2/stocks/trades/latest", symbols, {"feed": feed}, f"{self._source}:{feed}", on_behalf_of
        )

    def latest_crypto_trades(
        self, symbols: Sequence[str], *, on_behalf_of: str | None = None
    ) -> dict[str, Trade]:
        path = f"/v1beta3/crypto/{CRYPTO_LOCATION}/latest/trades"
        return self._latest_trades(path, symbols, {}, f"{self._source}:crypto", on_behalf_of)

    def _latest_bars(
        self, path: str, symbols: Sequence[str], params: dict[str, str], source: str, user: str | None
    ) -> dict[str, Bar]:
        wanted = self._symbols(symbols)
        envelope = self._validated(path, LatestBars, self._get(path, {**params, "symbols": ",".join(wanted)}))
        self._check_symbols(path, wanted, envelope.bars)
        try:
            bars = {s: to_bar(s, "1Min", w) for s, w in envelope.bars.items()}
        except ValueError as exc:
            raise AlpacaResponseError(f"GET {path}: malformed bar: {exc}") from None
        self._log_access(user, sorted(bars), "bar", source)
        return bars

    def latest_stock_bars(
        self, symbols: Sequence[str], *, feed: str | None = None, on_behalf_of: str | None = None
    ) -> dict[str, Bar]:
        """The latest minute bar of each symbol."""
        feed = feed or self.feed
        return self._latest_bars(
            "/v2/stocks/bars/latest", symbols, {"feed": feed}, f"{self._source}:{feed}", on_behalf_of
        )

    def latest_crypto_bars(
        self, symbols: Sequence[str], *, on_behalf_of: str | None = None
    ) -> dict[str, Bar]:
        path = f"/v1beta3/crypto/{CRYPTO_LOCATION}/latest/bars"
        return self._latest_bars(path, symbols, {}, f"{self._source}:crypto", on_behalf_of)

    # --- historical bars ---------------------------------------------------------------------------

    def _bars(
        self,
        path: str,
        symbols: Sequence[str],
        timeframe: str,
        params: dict[str, str],
        source: str,
        user: str | None,
        max_pages: int,
    ) -> dict[str, list[Bar]]:
        wanted = self._symbols(symbols)
        frame = normalize_timeframe(timeframe)
        query = {**params, "symbols": ",".join(wanted), "timeframe": frame}
        merged: dict[str, list[Bar]] = {s: [] for s in wanted}
        seen_tokens: set[str] = set()
        token: str | None = None
        for _ in range(max_pages):
            page_query = query if token is None else {**query, "page_token": token}
            page = self._validated(path, BarsPage, self._get(path, page_query))
            page_bars = page.bars or {}
            self._check_symbols(path, wanted, page_bars)
            try:
                for symbol, wires in page_bars.items():
                    merged[symbol].extend(to_bar(symbol, frame, w) for w in wires)
            except ValueError as exc:
                raise AlpacaResponseError(f"GET {path}: malformed bar: {exc}") from None
            token = page.next_page_token
            if not token:
                break
            if token in seen_tokens:
                raise AlpacaResponseError(f"GET {path}: next_page_token {token!r} repeats")
            seen_tokens.add(token)
        else:
            raise AlpacaDataError(f"GET {path}: more than {max_pages} pages; narrow the range")
        for symbol, series in merged.items():
            series.sort(key=lambda b: b.start)
            if any(a.start == b.start for a, b in itertools.pairwise(series)):
                raise AlpacaResponseError(f"GET {path}: duplicate bars for {symbol}")
        delivered = sorted(s for s, series in merged.items() if series)
        self._log_access(user, delivered, "bars", source)
        return {s: series for s, series in merged.items() if series}

    def stock_bars(
        self,
        symbols: Sequence[str],
        timeframe: str,
        *,
        start: datetime,
        end: datetime | None = None,
        adjustment: str = "raw",
        feed: str | None = None,
        page_limit: int = 10_000,
        max_pages: int = 1_000,
        on_behalf_of: str | None = None,
    ) -> dict[str, list[Bar]]:
        """Historical bars of ``symbols`` from ``start`` (to ``end``), every page, per symbol, oldest first."""
        feed = feed or self.feed
        params = {"start": rfc3339(start), "adjustment": adjustment, "feed": feed, "limit": str(page_limit)}
        if end is not None:
            params["end"] = rfc3339(end)
        return self._bars(
            "/v2/stocks/bars", symbols, timeframe, params, f"{self._source}:{feed}", on_behalf_of, max_pages
        )

    def crypto_bars(
        self,
        symbols: Sequence[str],
        timeframe: str,
        *,
        start: datetime,
        end: datetime | None = None,
        page_limit: int = 10_000,
        max_pages: int = 1_000,
        on_behalf_of: str | None = None,
    ) -> dict[str, list[Bar]]:
        params = {"start": rfc3339(start), "limit": str(page_limit)}
        if end is not None:
            params["end"] = rfc3339(end)
        path = f"/v1beta3/crypto/{CRYPTO_LOCATION}/bars"
        return self._bars(path, symbols, timeframe, params, f"{self._source}:crypto", on_behalf_of, max_pages)

    def corporate_actions(
        self, symbols: Sequence[str], *, start: date, end: date, max_pages: int = 100
    ) -> list[CorporateAction]:
        """Cash dividends, splits and name changes of ``symbols`` with ex-dates in ``[start, end]``."""
        path = "/v1/corporate-actions"
        query = {
            "symbols": ",".join(self._symbols(symbols)),
            "types": ",".join(ALPACA_TYPES),
            "start": start.isoformat(),
            "end": end.isoformat(),
            "limit": "1000",
        }
        actions: list[CorporateAction] = []
        token: str | None = None
        for _ in range(max_pages):
            page_query = query if token is None else {**query, "page_token": token}
            page = self._validated(path, CorporateActionsPage, self._get(path, page_query))
            actions += to_actions(page)
            token = page.next_page_token
            if not token:
                return actions
        raise AlpacaDataError(f"GET {path}: more than {max_pages} pages; narrow the range")

    # --- QuoteSource ---------------------------------------------------------------------------------

    def latest_quotes(self, symbols: Sequence[str], *, on_behalf_of: str | None = None) -> dict[str, Quote]:
        """Latest quotes of any mix of stocks, crypto pairs and OCC options (futures: none, Alpaca has no
        futures data)."""
        by_kind: dict[str, list[str]] = {}
        for symbol in {s.strip().upper() for s in symbols if s.strip()}:
            by_kind.setdefault(symbol_kind(symbol), []).append(symbol)
        quotes: dict[str, Quote] = {}
        if by_kind.get("stock"):
            quotes |= self.latest_stock_quotes(by_kind["stock"], on_behalf_of=on_behalf_of)
        if by_kind.get("crypto"):
            quotes |= self.latest_crypto_quotes(by_kind["crypto"], on_behalf_of=on_behalf_of)
        if by_kind.get("option"):
            quotes |= self.latest_option_quotes(by_kind["option"], on_behalf_of=on_behalf_of)
        if by_kind.get("future"):
            log.info("alpaca has no futures data: %s left out", ", ".join(sorted(by_kind["future"])))
        return quotes


def _error_message(response: httpx.Response) -> str:
    """The API's ``{"code", "message"}`` message, or a short excerpt of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and "message" in body:
        return str(body["message"])[:500]
    return response.text[:200]
