"""Rule packs: one firm plan's rules as validated, versioned data.

A pack parametrizes every dimension on which prop firms differ (docs/risk.md, "Every dimension"), so
the engine never hard-codes a firm: where the max-loss floor is measured from and when it moves,
where it stops, what the daily limit is anchored to and what breaching it does, when the trading
day ends (an IANA zone and a wall-clock time, so DST is handled), targets, minimum days,
consistency, contract limits and scaling, flat-by times, winning days, loss streaks, and the
time-decay and VPIN signals.

This module holds :class:`RulePack` itself and how it is parsed, validated and stored; its
sections are in :mod:`~propdesk.risk.rules.pack_sections`, the enumerations they use in
:mod:`~propdesk.risk.rules.pack_enums`, and the exact numbers, times and zones (a float or an
unquoted time is refused) in :mod:`~propdesk.risk.rules.pack_fields`.

A pack is frozen after validation; :attr:`RulePack.fingerprint` is a hash of its canonical form,
so an account can store the exact pack version it was created with and prove it later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import Field, PrivateAttr, ValidationError, model_validator

from propdesk.risk.rules.pack_enums import ConsistencyDenominator, LockLevel, PercentOf, Phase
from propdesk.risk.rules.pack_fields import Exact, PackModel
from propdesk.risk.rules.pack_sections import (
    ConsecutiveLosses,
    ConsistencyRule,
    DailyLossRule,
    DayBoundary,
    FlatBy,
    MaxLossRule,
    MinTradingDays,
    PositionLimits,
    ProfitTarget,
    ScalingPlan,
    TimeDecayExit,
    VpinGate,
    WinningDays,
)


class PackError(ValueError):
    """A pack that does not parse or validate; the message lists every problem with its field path."""


_SLUG = r"[a-z0-9][a-z0-9\-]{1,79}"


class RulePack(PackModel):
    """One firm plan's rules. Absent rules (None) do not apply."""

    schema_version: Literal[1] = 1
    id: Annotated[str, Field(pattern=rf"^{_SLUG}$")]
    version: Annotated[str, Field(min_length=1, max_length=40)]
    name: str
    firm: str
    plan: str
    phase: Phase
    effective_date: date
    sources: tuple[Annotated[str, Field(pattern=r"^(https?://|propdesk:)\S+$")], ...] = Field(min_length=1)
    notes: str = ""
    caveats: tuple[str, ...] = ()
    currency: str = "USD"
    starting_balance: Exact
    day_boundary: DayBoundary
    max_loss: MaxLossRule | None = None
    daily_loss: DailyLossRule | None = None
    profit_target: ProfitTarget | None = None
    min_trading_days: MinTradingDays | None = None
    consistency: ConsistencyRule | None = None
    position_limits: PositionLimits | None = None
    scaling: ScalingPlan | None = None
    flat_by: FlatBy | None = None
    winning_days: WinningDays | None = None
    max_consecutive_losses: ConsecutiveLosses | None = None
    time_decay_exit: TimeDecayExit | None = None
    vpin_gate: VpinGate | None = None

    _fingerprint: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.starting_balance <= 0:
            raise ValueError("starting_balance must be positive")
        c = self.consistency
        if (
            c is not None
            and c.denominator is ConsistencyDenominator.TARGET_OR_TOTAL
            and not self.profit_target
        ):
            raise ValueError("consistency denominator 'target_or_total' needs a profit_target")
        return self

    # --- resolved sizes ---

    @property
    def max_loss_amount(self) -> Decimal | None:
        return None if self.max_loss is None else self.max_loss.size_of(self.starting_balance)

    @property
    def target_amount(self) -> Decimal | None:
        return None if self.profit_target is None else self.profit_target.size_of(self.starting_balance)

    @property
    def winning_day_threshold(self) -> Decimal | None:
        return None if self.winning_days is None else self.winning_days.size_of(self.starting_balance)

    def lock_level(self, starting_balance: Decimal | None = None) -> Decimal | None:
        """Where the trailing floor stops (None: it never stops)."""
        start = self.starting_balance if starting_balance is None else starting_balance
        if self.max_loss is None or self.max_loss.lock is LockLevel.NONE:
            return None
        if self.max_loss.lock is LockLevel.START:
            return start
        return start + self.max_loss.lock_offset

    def daily_size(self, anchor: Decimal, starting_balance: Decimal | None = None) -> Decimal | None:
        """Today's allowed loss in money, given today's anchor value."""
        rule = self.daily_loss
        if rule is None:
            return None
        start = self.starting_balance if starting_balance is None else starting_balance
        return rule.size_of(anchor if rule.percent_of is PercentOf.ANCHOR else start)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON form: equal packs, equal fingerprints, across processes.

        Computed once per pack object (rule folding checks it on every observation).
        """
        if self._fingerprint is None:
            canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
            self._fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
        return self._fingerprint

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; with ``update`` the cached fingerprint is dropped (the content changed)."""
        copied = super().model_copy(update=update, deep=deep)
        if update:
            copied._fingerprint = None
        return copied

    @property
    def key(self) -> str:
        """``id@version``: how an account names the pack it was created with."""
        return f"{self.id}@{self.version}"


def _format_errors(error: ValidationError, source: str) -> str:
    lines = [f"{source}: {error.error_count()} problem(s)"]
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(pack)"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)


def validate_pack(data: Any, *, source: str = "pack") -> RulePack:
    """Validate a pack from plain data (a mapping as read from YAML or JSON)."""
    if not isinstance(data, dict):
        raise PackError(f"{source}: a pack is a mapping of fields, got {type(data).__name__}")
    try:
        return RulePack.model_validate(data)
    except ValidationError as exc:
        raise PackError(_format_errors(exc, source)) from None


def parse_pack(text: str | bytes, *, source: str = "pack") -> RulePack:
    """Parse and validate one pack from YAML text (JSON is YAML too); raises :class:`PackError`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PackError(f"{source}: not valid YAML: {exc}") from None
    return validate_pack(data, source=source)


def pack_snapshot(pack: RulePack) -> dict[str, Any]:
    """The JSON-safe form an account stores at creation (with :attr:`RulePack.fingerprint`)."""
    return pack.model_dump(mode="json")


def pack_from_snapshot(data: Any, *, fingerprint: str | None = None) -> RulePack:
    """Rebuild a stored pack; with ``fingerprint`` refuse a snapshot whose content changed."""
    pack = validate_pack(data, source="stored pack")
    if fingerprint is not None and pack.fingerprint != fingerprint:
        raise PackError(
            f"stored pack {pack.key} does not match its fingerprint "
            f"({pack.fingerprint[:12]} != {fingerprint[:12]}): it was changed after the account was created"
        )
    return pack
