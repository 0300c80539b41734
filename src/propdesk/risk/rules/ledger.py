"""Rule state from an account's ledger: the same fold for live service, replay and recompute.

:func:`fold_ledger` walks an account's ledger events in order through the accounting kernel's
``evolve`` and feeds the rule state the observation each event implies, so a service can rebuild
(and compare) the rule state of any account from its ledger alone, exactly as docs/architecture.md asks of
every projection.

Mapping: ``account_started`` starts the rule state (at its time and starting cash), and
``account_reset`` starts it again (at the new starting balance);
``fill_applied`` is a fill observation; ``positions_marked`` a mark; ``cash_adjusted`` with a
reason starting with ``payout`` is a payout (any other adjustment is observed as a balance
change); ``account_liquidated`` and everything else is observed as the account's new values.
Day boundaries roll from the event times.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_never

from propdesk.accounting.events import (
    AccountCreated,
    AccountLiquidated,
    AccountReset,
    AccountStarted,
    CashAdjusted,
    DividendPaid,
    Event,
    FillApplied,
    FillVoided,
    FundsReserved,
    IncidentRecorded,
    OptionSettled,
    PositionsMarked,
    ReservationReleased,
    SplitApplied,
    StatusChanged,
    SymbolChanged,
    TradingDayStarted,
)
from propdesk.accounting.kernel import evolve
from propdesk.accounting.state import AccountState
from propdesk.model.ids import AccountId
from propdesk.risk.rules.fold import observe, record_payout, start_rules
from propdesk.risk.rules.observations import observation_from_account
from propdesk.risk.rules.pack import RulePack
from propdesk.risk.rules.state import RuleState

PAYOUT_PREFIX = "payout"


def fold_ledger(
    pack: RulePack, events: Iterable[Event], *, account_id: str = "account"
) -> tuple[AccountState, RuleState | None]:
    """The account and its rule state after ``events`` (None until the account has started)."""
    account = AccountState(account_id=AccountId(account_id))
    rules: RuleState | None = None
    for event in events:
        account = evolve(account, event)
        match event:
            case AccountStarted():
                rules = start_rules(pack, event.at, starting_balance=event.cash_delta)
            case AccountReset():
                rules = start_rules(pack, event.at, starting_balance=event.starting_balance)
            case _ if rules is not None:
                rules = _apply(pack, rules, account, event)
            case _:
                pass  # before the account starts there are no rules to observe
    return account, rules


def _apply(pack: RulePack, rules: RuleState, account: AccountState, event: Event) -> RuleState:
    """The rule state after one event of a started account (``account`` already includes it)."""
    match event:
        case CashAdjusted() if event.cash_delta < 0 and event.reason.strip().lower().startswith(
            PAYOUT_PREFIX
        ):
            return record_payout(pack, rules, amount=-event.cash_delta, at=event.at)
        case FillApplied():
            return observe(pack, rules, observation_from_account(pack, account, event.at, fill_event=event))
        case (
            AccountStarted()
            | AccountReset()
            | AccountCreated()
            | CashAdjusted()
            | PositionsMarked()
            | FundsReserved()
            | ReservationReleased()
            | StatusChanged()
            | TradingDayStarted()
            | AccountLiquidated()
            | FillVoided()
            | IncidentRecorded()
            | OptionSettled()
            | DividendPaid()
            | SplitApplied()
            | SymbolChanged()
        ):
            # Every other event is observed as the account's new values (a start or a reset never
            # reaches here: fold_ledger starts the rules afresh on those).
            return observe(pack, rules, observation_from_account(pack, account, event.at))
        case _:
            assert_never(event)
