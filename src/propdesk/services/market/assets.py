"""The asset catalogue: what propdesk can say about a symbol, for Alpaca's assets and option contracts.

propdesk has no exchange master file. An asset is *known* when the ``assets`` table has flags for
it, when prices are stored for it (quotes or bars), or when it is one of the common crypto pairs
below; anything else is unknown (404), as Alpaca answers for a symbol it does not list, even if
the symbol is well formed. Option contracts are the OCC symbols with stored prices.

Rules where Alpaca's data has no counterpart here (documented in ``docs/alpaca.md``):

* Equity exchange: the ``assets`` row's exchange when it is one of Alpaca's exchange names,
  otherwise ``NASDAQ`` (alpaca-py refuses unknown names such as ``IEX``). Crypto is ``CRYPTO``;
  options and futures ``""``.
* Futures are not Alpaca assets (positions and orders show them as ``us_equity``); the assets list
  leaves them out, as it does index symbols (SPX, NDX, …) stored only to settle index options.
* A contract is ``active`` (and tradable) until the end of its expiration day in New York.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from propdesk.model.instruments import (
    CASH_SETTLED_ROOTS,
    AssetClass,
    CryptoPair,
    Equity,
    Instrument,
    InvalidSymbolError,
    Option,
    OptionRight,
    option,
    parse_instrument,
)
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Invalid, NotFound
from propdesk.store.orders import AssetFlags
from propdesk.store.uow import UnitOfWork

NEW_YORK = ZoneInfo("America/New_York")

# Alpaca's exchange names (alpaca-py's AssetExchange) an equity may carry; anything else is shown
# as DEFAULT_EQUITY_EXCHANGE.
EQUITY_EXCHANGES = frozenset(
    {"AMEX", "ARCA", "ASCX", "BATS", "NYSE", "NASDAQ", "NYSEARCA", "FTXU", "CBSE", "GNSS", "ERSX", "OTC"}
)
DEFAULT_EQUITY_EXCHANGE = "NASDAQ"

_COIN_NAMES = {
    "AAVE": "Aave",
    "AVAX": "Avalanche",
    "BAT": "Basic Attention Token",
    "BCH": "Bitcoin Cash",
    "BTC": "Bitcoin",
    "CRV": "Curve",
    "DOGE": "Dogecoin",
    "DOT": "Polkadot",
    "ETH": "Ethereum",
    "GRT": "The Graph",
    "LINK": "Chainlink",
    "LTC": "Litecoin",
    "MKR": "Maker",
    "SHIB": "Shiba Inu",
    "SOL": "Solana",
    "SUSHI": "Sushi",
    "UNI": "Uniswap",
    "USDC": "USD Coin",
    "USDT": "Tether",
    "XRP": "XRP",
    "XTZ": "Tezos",
    "YFI": "Yearn Finance",
}
_QUOTE_NAMES = {"USD": "US Dollar", "USDC": "USD Coin", "USDT": "Tether", "BTC": "Bitcoin"}

# Pairs listed even before any price is stored (Alpaca's USD pairs).
KNOWN_CRYPTO = tuple(f"{coin}/USD" for coin in sorted(_COIN_NAMES))

# Weekly and PM-settled index roots settle on their index's value.
_INDEX_OF_ROOT = {"SPXW": "SPX", "NDXP": "NDX", "RUTW": "RUT", "VIXW": "VIX"}
INDEX_SYMBOLS = frozenset(_INDEX_OF_ROOT.get(root, root) for root in CASH_SETTLED_ROOTS)

HAS_OPTIONS = "has_options"
MAX_CONTRACTS_PAGE = 10_000
DEFAULT_CONTRACTS_PAGE = 100
_HUNDRED = Decimal(100)


def underlying_of(contract: Option) -> str:
    """The symbol a contract delivers or settles on (``SPXW`` options settle on ``SPX``)."""
    return _INDEX_OF_ROOT.get(contract.underlying, contract.underlying)


def trading_date(moment: datetime) -> date:
    """The calendar day in New York (expirations are New York dates)."""
    return moment.astimezone(NEW_YORK).date()


@dataclass(frozen=True, slots=True)
class AssetInfo:
    """One asset as the API describes it; ``symbol`` is propdesk's (``BTC/USD`` for crypto)."""

    symbol: str
    asset_class: AssetClass
    name: str
    exchange: str
    tradable: bool
    marginable: bool
    shortable: bool
    easy_to_borrow: bool
    fractionable: bool
    attributes: tuple[str, ...] = ()
    min_order_size: Decimal | None = None
    min_trade_increment: Decimal | None = None
    price_increment: Decimal | None = None

    def margin_requirement(self, leverage: Decimal) -> Decimal:
        """Percent of a position's value tied up as margin: ``100 / leverage`` if marginable."""
        if not self.marginable or leverage <= 0:
            return _HUNDRED
        return _HUNDRED / leverage


def describe(instrument: Instrument, flags: AssetFlags | None, *, has_options: bool = False) -> AssetInfo:
    """An instrument with its stored flags (defaults where none are stored)."""
    symbol = instrument.symbol
    name = flags.name if flags is not None and flags.name else symbol
    tradable = True if flags is None else flags.tradable
    attributes = (HAS_OPTIONS,) if has_options else ()
    if isinstance(instrument, CryptoPair):
        coin = _COIN_NAMES.get(instrument.base, instrument.base)
        quote = _QUOTE_NAMES.get(instrument.quote, instrument.quote)
        return AssetInfo(
            symbol=symbol,
            asset_class=AssetClass.CRYPTO,
            name=flags.name if flags is not None and flags.name else f"{coin} / {quote}",
            exchange="CRYPTO",
            tradable=tradable,
            marginable=False,
            shortable=False,
            easy_to_borrow=False,
            fractionable=True,
            attributes=attributes,
            min_order_size=instrument.lot_size,
            min_trade_increment=instrument.lot_size,
            price_increment=instrument.tick_size,
        )
    if isinstance(instrument, Equity):
        stored = flags.exchange.upper() if flags is not None else ""
        return AssetInfo(
            symbol=symbol,
            asset_class=AssetClass.US_EQUITY,
            name=name,
            exchange=stored if stored in EQUITY_EXCHANGES else DEFAULT_EQUITY_EXCHANGE,
            tradable=tradable,
            marginable=True if flags is None else flags.marginable,
            shortable=instrument.shortable if flags is None else flags.shortable,
            easy_to_borrow=instrument.easy_to_borrow if flags is None else flags.easy_to_borrow,
            fractionable=True if flags is None else flags.fractionable,
            attributes=attributes,
        )
    # Options and futures: no exchange Alpaca's enum knows (Alpaca shows options with "").
    return AssetInfo(
        symbol=symbol,
        asset_class=instrument.asset_class,
        name=name,
        exchange="",
        tradable=tradable,
        marginable=instrument.asset_class is AssetClass.FUTURE,
        shortable=True,
        easy_to_borrow=True,
        fractionable=False,
        attributes=attributes,
    )


# --- the catalogue -------------------------------------------------------------------------------


def _listed(symbol: str, asset_class: AssetClass | None = None) -> Instrument | None:
    """The instrument for a catalogue symbol, if it is an equity or crypto pair we list."""
    try:
        instrument = parse_instrument(symbol, asset_class)
    except InvalidSymbolError:
        return None
    if isinstance(instrument, CryptoPair):
        return instrument
    if isinstance(instrument, Equity) and (asset_class is not None or symbol not in INDEX_SYMBOLS):
        return instrument
    return None


@dataclass(frozen=True, slots=True)
class _Catalogue:
    assets: dict[str, AssetInfo]
    contracts: dict[str, Option]


def _catalogue(uow: UnitOfWork) -> _Catalogue:
    flags = {f.symbol: f for f in uow.orders.all_assets()}
    priced = uow.prices.priced_symbols()
    contracts: dict[str, Option] = {}
    instruments: dict[str, Instrument] = {}
    for symbol in priced:
        try:
            instrument = parse_instrument(symbol)
        except InvalidSymbolError:
            continue
        if isinstance(instrument, Option):
            contracts[instrument.symbol] = instrument
        elif (listed := _listed(symbol)) is not None:
            instruments[listed.symbol] = listed
    for symbol in KNOWN_CRYPTO:
        instruments.setdefault(symbol, parse_instrument(symbol))
    for symbol, row in flags.items():
        if row.asset_class is AssetClass.US_OPTION:
            try:
                contracts.setdefault(symbol, option(symbol))
            except InvalidSymbolError:
                continue
        elif (listed := _listed(symbol, row.asset_class)) is not None:
            instruments[listed.symbol] = listed
    with_options = {underlying_of(c) for c in contracts.values()} | {c.underlying for c in contracts.values()}
    assets = {
        symbol: describe(instrument, flags.get(symbol), has_options=symbol in with_options)
        for symbol, instrument in instruments.items()
    }
    return _Catalogue(assets, contracts)


def list_assets(
    ctx: ServiceContext,
    *,
    status: str | None = None,
    asset_class: str | None = None,
    exchange: str | None = None,
    attributes: Sequence[str] = (),
) -> list[AssetInfo]:
    """Known equities and crypto pairs, filtered as Alpaca's ``GET /v2/assets`` (all are active)."""
    if status not in (None, "active", "inactive"):
        raise Invalid("invalid_request", f"status must be active or inactive, not {status!r}")
    classes = {c.value for c in AssetClass if c is not AssetClass.FUTURE} | {"crypto_perp"}
    if asset_class is not None and asset_class not in classes:
        raise Invalid("invalid_request", f"asset_class must be one of {', '.join(sorted(classes))}")
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        found = _catalogue(uow).assets
    wanted = set(attributes)
    return [
        info
        for _, info in sorted(found.items())
        if status != "inactive"
        and (asset_class is None or info.asset_class.value == asset_class)
        and (exchange is None or info.exchange == exchange.upper())
        and (not wanted or wanted & set(info.attributes))
    ]


def catalogue_in(uow: UnitOfWork) -> list[AssetInfo]:
    """Every known asset, by symbol (:func:`list_assets` unfiltered), inside the caller's transaction."""
    return [info for _, info in sorted(_catalogue(uow).assets.items())]


def get_asset(ctx: ServiceContext, text: str) -> AssetInfo:
    """One known asset by symbol: ``BTC/USD`` or ``BTCUSD`` for a pair; an OCC symbol is not an asset
    here (see :func:`get_contract`)."""
    symbol = text.strip().upper()
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        found = _catalogue(uow).assets
    if symbol in found:
        return found[symbol]
    flat = {s.replace("/", ""): info for s, info in found.items() if info.asset_class is AssetClass.CRYPTO}
    if symbol.replace("/", "") in flat:
        return flat[symbol.replace("/", "")]
    raise NotFound("asset_not_found", f"asset not found for {text}")


# --- option contracts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContractInfo:
    """An option contract with what the store knows of it."""

    contract: Option
    underlying: str
    active: bool
    close_price: Decimal | None = None
    close_price_date: date | None = None

    @property
    def name(self) -> str:
        c = self.contract
        kind = "Call" if c.right is OptionRight.CALL else "Put"
        return f"{c.underlying} {c.expiry:%b} {c.expiry.day} {c.expiry.year} {c.strike:f} {kind}"


@dataclass(frozen=True, slots=True)
class ContractFilter:
    """Alpaca's ``GET /v2/options/contracts`` query; every field optional."""

    underlying_symbols: Sequence[str] = ()
    status: str | None = "active"
    expiration_date: date | None = None
    expiration_date_gte: date | None = None
    expiration_date_lte: date | None = None
    root_symbol: str | None = None
    type: str | None = None
    style: str | None = None
    strike_price_gte: Decimal | None = None
    strike_price_lte: Decimal | None = None
    limit: int = DEFAULT_CONTRACTS_PAGE
    page_token: str | None = None


@dataclass(frozen=True, slots=True)
class ContractPage:
    contracts: list[ContractInfo]
    next_page_token: str | None


def _check_filter(query: ContractFilter) -> None:
    if query.status not in (None, "active", "inactive"):
        raise Invalid("invalid_request", f"status must be active or inactive, not {query.status!r}")
    if query.type not in (None, "call", "put"):
        raise Invalid("invalid_request", f"type must be call or put, not {query.type!r}")
    if query.style not in (None, "american", "european"):
        raise Invalid("invalid_request", f"style must be american or european, not {query.style!r}")
    if not 1 <= query.limit <= MAX_CONTRACTS_PAGE:
        raise Invalid("invalid_request", f"limit must be between 1 and {MAX_CONTRACTS_PAGE}")


def _matches(info: ContractInfo, query: ContractFilter) -> bool:
    c = info.contract
    underlyings = {s.strip().upper() for s in query.underlying_symbols if s.strip()}
    checks = (
        not underlyings or info.underlying in underlyings or c.underlying in underlyings,
        query.status is None or (query.status == "active") == info.active,
        query.expiration_date is None or c.expiry == query.expiration_date,
        query.expiration_date_gte is None or c.expiry >= query.expiration_date_gte,
        query.expiration_date_lte is None or c.expiry <= query.expiration_date_lte,
        query.root_symbol is None or c.underlying == query.root_symbol.strip().upper(),
        query.type is None or c.right.value == query.type,
        query.style is None or c.style.value == query.style,
        query.strike_price_gte is None or c.strike >= query.strike_price_gte,
        query.strike_price_lte is None or c.strike <= query.strike_price_lte,
    )
    return all(checks)


def _contract_info(contract: Option, today: date) -> ContractInfo:
    return ContractInfo(contract, underlying_of(contract), active=contract.expiry >= today)


def _with_prices(uow: UnitOfWork, infos: Iterable[ContractInfo], now: datetime) -> list[ContractInfo]:
    """The latest stored price of each contract: its newest quote's last trade (else its mid), or
    without quotes the close of its newest daily bar."""
    infos = list(infos)
    quotes = uow.prices.latest_quotes([i.contract.symbol for i in infos], at_or_before=now)
    unquoted = [i.contract.symbol for i in infos if i.contract.symbol not in quotes]
    bars = uow.prices.last_bars_before(unquoted, "1Day", now + timedelta(microseconds=1))
    priced: list[ContractInfo] = []
    for info in infos:
        quote = quotes.get(info.contract.symbol)
        bar = bars.get(info.contract.symbol)
        if quote is not None:
            price = quote.last if quote.last is not None else quote.mid
            priced.append(_replace_price(info, price, trading_date(quote.time)))
        elif bar is not None:
            priced.append(_replace_price(info, bar.close, trading_date(bar.start)))
        else:
            priced.append(info)
    return priced


def _replace_price(info: ContractInfo, price: Decimal, on: date) -> ContractInfo:
    return ContractInfo(info.contract, info.underlying, info.active, price, on)


def list_contracts(ctx: ServiceContext, query: ContractFilter) -> ContractPage:
    """Contracts with stored prices matching ``query``, by OCC symbol, one page at a time (the page
    token is the last symbol of the previous page)."""
    _check_filter(query)
    now = ctx.clock()
    today = trading_date(now)
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        contracts = _catalogue(uow).contracts
        matching = [
            info
            for symbol in sorted(contracts)
            if (query.page_token is None or symbol > query.page_token)
            and _matches(info := _contract_info(contracts[symbol], today), query)
        ]
        page = matching[: query.limit]
        more = len(matching) > query.limit
        return ContractPage(_with_prices(uow, page, now), page[-1].contract.symbol if more else None)


def get_contract(ctx: ServiceContext, text: str) -> ContractInfo:
    """One contract by OCC symbol (404 for a symbol without stored prices)."""
    try:
        contract = option(text.strip().upper())
    except InvalidSymbolError:
        raise NotFound("contract_not_found", f"option contract not found for {text}") from None
    now = ctx.clock()
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        contracts = _catalogue(uow).contracts
        if contract.symbol not in contracts:
            raise NotFound("contract_not_found", f"option contract not found for {text}")
        return _with_prices(uow, [_contract_info(contract, trading_date(now))], now)[0]


def all_contracts(ctx: ServiceContext) -> list[str]:
    """Every contract symbol (the API resolves a contract id against them)."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return sorted(_catalogue(uow).contracts)
