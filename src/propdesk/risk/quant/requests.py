"""Request models for ``POST /api/v1/risk/{size,kelly,ruin,challenge}`` and ``propdesk risk …``.

Each model validates its input (pydantic, ``extra`` fields refused) and ``run()`` returns the
result dataclass of the pure function behind it, which the API can serialize as is.

Number handling: every number is read by :func:`propdesk.model.numbers.parse_decimal` (a decimal
string in the strict grammar, an int, or a JSON number that the API decoded exactly as a
``Decimal``); a YAML or Python float is refused for money (capital, stop distance, point value,
caps, commissions, PnLs). Dimensionless statistics (win rate, payoff ratio, risk fraction, ruin
level, Kelly fraction, excursions, block length) also take a Python float by its shortest decimal
form (``0.55`` is exactly 0.55). Text is checked as in every request model (:mod:`propdesk.model.text`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema, model_validator

from propdesk.model.fields import SIGNED_SCHEMA
from propdesk.model.numbers import NotExactError, parse_decimal
from propdesk.model.text import CheckedText
from propdesk.risk.quant.challenge import ChallengeResult, simulate_challenge
from propdesk.risk.quant.ruin import Sizing, classic_ruin, monte_carlo_ruin, two_barrier_ruin, vince_ruin
from propdesk.risk.quant.sizing import KellyResult, RiskLevel, SizeResult, kelly, position_size, ruin_level
from propdesk.risk.quant.stats import Proportion
from propdesk.risk.quant.trade_models import BootstrapTrades, ParametricTrades
from propdesk.risk.rules.pack import RulePack, validate_pack
from propdesk.risk.rules.pack_fields import Exact


def _ratio(value: object, info: ValidationInfo) -> Decimal:
    if isinstance(value, float):  # a Python caller's float, by its shortest text; JSON never gives one
        return Decimal(repr(value))
    name = info.field_name or "value"
    try:
        return parse_decimal(value, field=name, signed=True)
    except NotExactError as exc:
        raise ValueError(str(exc).removeprefix(f"{name}: ")) from None


Ratio = Annotated[Decimal, BeforeValidator(_ratio), WithJsonSchema(SIGNED_SCHEMA)]
Probability = Annotated[Ratio, Field(ge=0, le=1)]


class _Request(CheckedText):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SizeRequest(_Request):
    effective_capital: Exact
    risk_fraction: Annotated[Ratio, Field(gt=0, lt=1)]
    stop_distance: Annotated[Exact, Field(gt=0)]
    point_value: Annotated[Exact, Field(gt=0)]
    max_contracts: Annotated[int, Field(ge=0)] | None = None
    per_trade_cap: Annotated[Exact, Field(gt=0)] | None = None
    fee_per_contract: Annotated[Exact, Field(ge=0)] = Decimal(0)
    win_rate: Probability | None = None
    payoff: Annotated[Ratio, Field(gt=0)] | None = None

    def run(self) -> SizeResult:
        return position_size(
            effective_capital=self.effective_capital,
            risk_fraction=self.risk_fraction,
            stop_distance=self.stop_distance,
            point_value=self.point_value,
            max_contracts=self.max_contracts,
            per_trade_cap=self.per_trade_cap,
            fee_per_contract=self.fee_per_contract,
            win_rate=self.win_rate,
            payoff=self.payoff,
        )


class KellyRequest(_Request):
    win_rate: Probability
    payoff: Annotated[Ratio, Field(gt=0)]
    fraction: Annotated[Ratio, Field(gt=0, le=2)] = Decimal(1)
    risk_fraction: Annotated[Ratio, Field(ge=0, lt=1)] | None = None

    def run(self) -> KellyResult:
        return kelly(self.win_rate, self.payoff, fraction=self.fraction, risk_fraction=self.risk_fraction)


@dataclass(frozen=True, slots=True)
class RuinResult:
    """Every ruin estimate for one setup; ``classic`` and ``two_barrier`` assume payoff 1 (±1R)."""

    win_rate: Decimal
    payoff: Decimal
    risk_fraction: Decimal
    ruin_level: Decimal
    capital_units: Decimal
    classic: float
    two_barrier: float | None
    vince: float
    monte_carlo_fixed: Proportion | None
    monte_carlo_fractional: Proportion | None
    level: RiskLevel
    blocked: bool
    notes: tuple[str, ...]


class RuinRequest(_Request):
    win_rate: Probability
    payoff: Annotated[Ratio, Field(gt=0)] = Decimal(1)
    risk_fraction: Annotated[Ratio, Field(gt=0, lt=1)]
    ruin_level: Annotated[Ratio, Field(gt=0, le=1)] = Decimal(1)
    target_fraction: Annotated[Ratio, Field(gt=0)] | None = None
    trades: Annotated[int, Field(ge=1, le=100_000)] | None = None
    paths: Annotated[int, Field(ge=1, le=1_000_000)] = 20_000
    seed: int = 0

    def run(self) -> RuinResult:
        w, r, f, g = (float(x) for x in (self.win_rate, self.payoff, self.risk_fraction, self.ruin_level))
        units = Decimal(format(self.ruin_level / self.risk_fraction, "f"))
        notes = []
        if self.payoff != 1:
            notes.append("classic and two-barrier ruin assume even payoff (±1R); use vince or Monte Carlo")
        barrier = None
        if self.target_fraction is not None:
            n = (self.ruin_level + self.target_fraction) / self.risk_fraction
            barrier = two_barrier_ruin(w, float(units), float(n))
        vince = vince_ruin(w, r, f, g)
        fixed = frac = None
        if self.trades is not None:
            fixed = monte_carlo_ruin(w, r, f, g, trades=self.trades, paths=self.paths, seed=self.seed)
            frac = monte_carlo_ruin(
                w, r, f, g, trades=self.trades, paths=self.paths, sizing=Sizing.FRACTIONAL, seed=self.seed
            )
        level = ruin_level(vince)
        return RuinResult(
            win_rate=self.win_rate,
            payoff=self.payoff,
            risk_fraction=self.risk_fraction,
            ruin_level=self.ruin_level,
            capital_units=units,
            classic=classic_ruin(w, float(units)),
            two_barrier=barrier,
            vince=vince,
            monte_carlo_fixed=fixed,
            monte_carlo_fractional=frac,
            level=level,
            blocked=level is RiskLevel.CRITICAL,
            notes=tuple(notes),
        )


class ChallengeRequest(_Request):
    """A pass-probability question: a pack (shipped id or a full custom pack) and a trader."""

    pack: str | None = None
    custom_pack: dict[str, Any] | None = None
    win_rate: Probability | None = None
    payoff: Annotated[Ratio, Field(gt=0)] | None = None
    risk: Annotated[Exact, Field(gt=0)] | None = None
    risk_fraction: Annotated[Ratio, Field(gt=0, lt=1)] | None = None
    trades_per_day: Annotated[int, Field(ge=1, le=100)] = 3
    commission: Annotated[Exact, Field(ge=0)] = Decimal(0)
    loser_mfe_r: Annotated[Ratio, Field(ge=0)] = Decimal(0)
    winner_mae_r: Annotated[Ratio, Field(ge=0)] = Decimal(0)
    bootstrap_pnls: tuple[Exact, ...] | None = None
    mean_block: Annotated[Ratio, Field(ge=1)] = Decimal(5)
    paths: Annotated[int, Field(ge=100, le=1_000_000)] = 10_000
    max_days: Annotated[int, Field(ge=1, le=1_000)] = 60
    seed: int = 0

    @model_validator(mode="after")
    def _one_model(self) -> ChallengeRequest:
        if (self.pack is None) == (self.custom_pack is None):
            raise ValueError("give exactly one of 'pack' (a shipped pack id) or 'custom_pack'")
        if self.bootstrap_pnls is None:
            if self.win_rate is None or self.payoff is None:
                raise ValueError("a parametric trader needs win_rate and payoff (or give bootstrap_pnls)")
            if (self.risk is None) == (self.risk_fraction is None):
                raise ValueError("give exactly one of 'risk' (money per trade) or 'risk_fraction'")
        elif len(self.bootstrap_pnls) < 2:
            raise ValueError("bootstrap_pnls needs at least two closed trades")
        return self

    def resolve_pack(self) -> RulePack:
        if self.custom_pack is not None:
            return validate_pack(self.custom_pack, source="custom_pack")
        from propdesk.risk.rules.packs import load_pack

        assert self.pack is not None
        return load_pack(self.pack)

    def run(self, pack: RulePack | None = None) -> ChallengeResult:
        """Simulate; ``pack`` overrides the named one (e.g. an account's stored pack snapshot)."""
        resolved = pack if pack is not None else self.resolve_pack()
        model: ParametricTrades | BootstrapTrades
        if self.bootstrap_pnls is not None:
            model = BootstrapTrades(
                self.bootstrap_pnls, trades_per_day=self.trades_per_day, mean_block=float(self.mean_block)
            )
        else:
            assert self.win_rate is not None
            assert self.payoff is not None
            model = ParametricTrades(
                win_rate=float(self.win_rate),
                payoff=float(self.payoff),
                risk=self.risk,
                risk_fraction=float(self.risk_fraction) if self.risk_fraction is not None else None,
                trades_per_day=self.trades_per_day,
                commission=self.commission,
                loser_mfe_r=float(self.loser_mfe_r),
                winner_mae_r=float(self.winner_mae_r),
            )
        return simulate_challenge(resolved, model, paths=self.paths, max_days=self.max_days, seed=self.seed)
