"""Position sizing from effective capital, Kelly, and the risk level of a sizing decision.

Prop traders size from the wrong number: the account size (50,000) instead of the distance to the
binding floor (often 500–2,000). :func:`position_size` takes *effective capital* (the cushion
above the binding floor, see :mod:`propdesk.risk.rules.evaluate`) and returns whole contracts:

    contracts = floor(min(risk_fraction × effective_capital, per_trade_cap)
                      / (stop_distance × point_value + fee_per_contract))

clipped to the contracts the session allows (pack limit, scaling tier, minus lots already open).

Kelly: ``f* = W − (1 − W)/R``. With a Gaussian approximation the growth at ``c·f*`` is about
``c(2 − c)`` of the maximum (half Kelly keeps ~75% of the growth at half the volatility); betting
``2f*`` or more has non-positive expected growth.

Risk level of a sizing (the same four words as the breach level): the worse of

* the ruin level (Vince/Kaufman, ruin = losing the whole effective capital, G = 1, at the sized
  risk fraction): SAFE under 1%, WARNING under 5%, DANGER under 20%, CRITICAL from 20%;
* the Kelly level: SAFE up to half Kelly, WARNING up to full Kelly, DANGER under twice Kelly,
  CRITICAL at twice Kelly or more, or with no edge.

CRITICAL blocks the trade (``blocked``). Seed 001: effective capital 500, 1% risk, W 0.55, R 2,
a 0.50-point stop at $10 a point → 1 contract, ruin ≈ 0, Kelly 0.325, SAFE; W 0.40, R 1.5, 10%
risk → no edge, ruin 100%, CRITICAL, blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from propdesk.model.numbers import ZERO
from propdesk.risk.quant.ruin import vince_ruin
from propdesk.risk.rules.levels import BreachLevel

RiskLevel = BreachLevel

ONE = Decimal(1)
TWO = Decimal(2)
HALF = Decimal("0.5")

RUIN_WARNING = 0.01
RUIN_DANGER = 0.05
RUIN_CRITICAL = 0.20


def _worse(a: RiskLevel, b: RiskLevel) -> RiskLevel:
    return a if a.rank >= b.rank else b


@dataclass(frozen=True, slots=True)
class KellyResult:
    win_rate: Decimal
    payoff: Decimal
    f_star: Decimal
    edge_per_r: Decimal
    half_kelly: Decimal
    quarter_kelly: Decimal
    fraction: Decimal
    fractional_kelly: Decimal
    growth_retention: Decimal
    risk_fraction: Decimal | None
    kelly_multiple: Decimal | None
    level: RiskLevel
    warnings: tuple[str, ...]

    @property
    def has_edge(self) -> bool:
        return self.f_star > 0


def _check_rates(win_rate: Decimal, payoff: Decimal) -> None:
    if not ZERO <= win_rate <= ONE:
        raise ValueError(f"win rate must be in [0, 1], got {win_rate}")
    if payoff <= 0:
        raise ValueError(f"payoff ratio must be positive, got {payoff}")


def kelly(
    win_rate: Decimal,
    payoff: Decimal,
    *,
    fraction: Decimal = ONE,
    risk_fraction: Decimal | None = None,
) -> KellyResult:
    """Kelly's optimal fraction, a fractional Kelly, and warnings for ``risk_fraction`` if given."""
    _check_rates(win_rate, payoff)
    if not ZERO < fraction <= TWO:
        raise ValueError(f"Kelly fraction must be in (0, 2], got {fraction}")
    f_star = win_rate - (ONE - win_rate) / payoff
    usable = max(f_star, ZERO)
    warnings: list[str] = []
    level = RiskLevel.SAFE
    multiple = None
    if f_star <= 0:
        warnings.append(f"no edge: Kelly f* = {f_star.normalize()} ≤ 0 says do not trade")
        level = RiskLevel.CRITICAL
    if risk_fraction is not None:
        if risk_fraction < 0:
            raise ValueError("risk fraction must not be negative")
        if f_star > 0:
            multiple = risk_fraction / f_star
            if multiple >= TWO:
                warnings.append(
                    f"risk {risk_fraction} is {multiple:.2f}× Kelly: at 2× Kelly or more expected growth is ≤ 0"
                )
                level = RiskLevel.CRITICAL
            elif multiple > ONE:
                warnings.append(
                    f"over-betting: risk {risk_fraction} exceeds full Kelly {f_star.normalize()}; "
                    "growth falls and drawdowns deepen"
                )
                level = RiskLevel.DANGER
            elif multiple > HALF:
                warnings.append(f"risk {risk_fraction} is above half Kelly {(f_star / 2).normalize()}")
                level = RiskLevel.WARNING
        elif risk_fraction > 0:
            warnings.append("any positive risk without an edge loses in expectation")
    return KellyResult(
        win_rate=win_rate,
        payoff=payoff,
        f_star=f_star,
        edge_per_r=win_rate * payoff - (ONE - win_rate),
        half_kelly=usable / 2,
        quarter_kelly=usable / 4,
        fraction=fraction,
        fractional_kelly=fraction * usable,
        growth_retention=fraction * (TWO - fraction),
        risk_fraction=risk_fraction,
        kelly_multiple=multiple,
        level=level,
        warnings=tuple(warnings),
    )


def ruin_level(probability: float) -> RiskLevel:
    if probability >= RUIN_CRITICAL:
        return RiskLevel.CRITICAL
    if probability >= RUIN_DANGER:
        return RiskLevel.DANGER
    if probability >= RUIN_WARNING:
        return RiskLevel.WARNING
    return RiskLevel.SAFE


@dataclass(frozen=True, slots=True)
class SizeResult:
    """What ``POST /api/v1/risk/size`` returns."""

    effective_capital: Decimal
    risk_fraction: Decimal
    risk_budget: Decimal
    risk_per_contract: Decimal
    raw_contracts: int
    contracts: int
    clipped_by: str | None
    risk_amount: Decimal
    actual_risk_fraction: Decimal
    kelly: KellyResult | None
    risk_of_ruin: float | None
    level: RiskLevel
    blocked: bool
    warnings: tuple[str, ...]


def position_size(
    *,
    effective_capital: Decimal,
    risk_fraction: Decimal,
    stop_distance: Decimal,
    point_value: Decimal,
    max_contracts: int | Decimal | None = None,
    per_trade_cap: Decimal | None = None,
    fee_per_contract: Decimal = ZERO,
    win_rate: Decimal | None = None,
    payoff: Decimal | None = None,
) -> SizeResult:
    """Whole contracts to trade when risking ``risk_fraction`` of effective capital on a stop.

    ``stop_distance`` is in points and ``point_value`` in money per point per contract (a 0.50
    point stop on MGC at $10 a point risks $5 a contract). ``max_contracts`` is what the session
    still allows. With ``win_rate`` and ``payoff`` the result carries Kelly, the risk of ruin and
    a risk level, and is ``blocked`` when that level is CRITICAL.
    """
    if not ZERO < risk_fraction < ONE:
        raise ValueError(f"risk fraction must be in (0, 1), got {risk_fraction}")
    if stop_distance <= 0 or point_value <= 0:
        raise ValueError("stop distance and point value must be positive")
    if fee_per_contract < 0 or (per_trade_cap is not None and per_trade_cap <= 0):
        raise ValueError("fees must not be negative and a per-trade cap must be positive")
    warnings: list[str] = []
    capital = max(effective_capital, ZERO)
    budget = capital * risk_fraction
    if per_trade_cap is not None and budget > per_trade_cap:
        budget = per_trade_cap
        warnings.append(f"risk budget capped at {per_trade_cap}")
    per_contract = stop_distance * point_value + fee_per_contract
    raw = int((budget / per_contract).to_integral_value(rounding=ROUND_FLOOR))
    contracts, clipped = raw, None
    if max_contracts is not None:
        limit = int(Decimal(max_contracts).to_integral_value(rounding=ROUND_FLOOR))
        if contracts > limit:
            contracts, clipped = max(limit, 0), "max_contracts"
            warnings.append(f"clipped from {raw} to the {limit} contract(s) this session allows")
    if effective_capital <= 0:
        warnings.append("no effective capital: the account is at or below its binding floor")
    elif raw == 0:
        warnings.append(f"one contract risks {per_contract}, more than the budget {budget}")
    risk_amount = per_contract * contracts
    actual = risk_amount / capital if capital > 0 else ZERO
    result_kelly = None
    ruin = None
    level = RiskLevel.SAFE if effective_capital > 0 else RiskLevel.CRITICAL
    if win_rate is not None and payoff is not None:
        sized = actual if contracts > 0 else risk_fraction
        result_kelly = kelly(win_rate, payoff, risk_fraction=sized)
        ruin = vince_ruin(float(win_rate), float(payoff), float(min(sized, Decimal("0.999999"))), 1.0)
        level = _worse(level, _worse(result_kelly.level, ruin_level(ruin)))
        warnings.extend(result_kelly.warnings)
        if ruin >= RUIN_DANGER:
            warnings.append(f"risk of ruin {ruin:.1%} of the effective capital")
    blocked = level is RiskLevel.CRITICAL
    return SizeResult(
        effective_capital=effective_capital,
        risk_fraction=risk_fraction,
        risk_budget=budget,
        risk_per_contract=per_contract,
        raw_contracts=raw,
        contracts=0 if blocked else contracts,
        clipped_by=clipped,
        risk_amount=ZERO if blocked else risk_amount,
        actual_risk_fraction=actual,
        kelly=result_kelly,
        risk_of_ruin=ruin,
        level=level,
        blocked=blocked,
        warnings=tuple(warnings),
    )
