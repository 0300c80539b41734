"""Wire shapes of the risk API: sizing, Kelly, ruin and challenge requests, rule packs."""

from __future__ import annotations

from decimal import Decimal

from pydantic import (
    ConfigDict,
    model_validator,
)
from pydantic.alias_generators import to_camel

from propdesk.api.schemas import (
    Wire,
)
from propdesk.risk.quant.requests import ChallengeRequest, KellyRequest, RuinRequest, SizeRequest

# The risk routes take the pure request models of ``propdesk.risk.quant.requests`` with camelCase names.
# Monte Carlo work is capped per request so one call cannot hold a worker for minutes.

MAX_SIMULATED_STEPS = 2_000_000
_RISK_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class SizeIn(SizeRequest):
    model_config = _RISK_CONFIG


class KellyIn(KellyRequest):
    model_config = _RISK_CONFIG


class RuinIn(RuinRequest):
    model_config = _RISK_CONFIG

    @model_validator(mode="after")
    def _budget(self) -> RuinIn:
        if self.trades is not None and self.trades * self.paths > MAX_SIMULATED_STEPS:
            raise ValueError(f"trades × paths must be at most {MAX_SIMULATED_STEPS:,} on the API")
        return self


class ChallengeIn(ChallengeRequest):
    model_config = _RISK_CONFIG

    @model_validator(mode="after")
    def _budget(self) -> ChallengeIn:
        if self.paths * self.max_days > MAX_SIMULATED_STEPS:
            raise ValueError(f"paths × maxDays must be at most {MAX_SIMULATED_STEPS:,} on the API")
        return self


class RulePackOut(Wire):
    id: str
    version: str
    key: str
    name: str
    firm: str
    plan: str
    phase: str
    effective_date: str
    starting_balance: Decimal
    currency: str
    sources: list[str]
    fingerprint: str


class RulePackListOut(Wire):
    items: list[RulePackOut]
