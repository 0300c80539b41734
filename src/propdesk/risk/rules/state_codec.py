"""JSON-safe round trip of a :class:`~propdesk.risk.rules.state.RuleState` (decimals as strings).

The service stores the rule state as a projection next to the account's balances (intraday
trailing floors depend on marks that the mark-to-market sweep does not always write to the
ledger, so the state itself must be kept). ``rule_state_from_payload(rule_state_payload(s)) == s``
exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from propdesk.model.codec import from_json, to_json
from propdesk.risk.rules.state import RuleState


def rule_state_payload(state: RuleState) -> dict[str, Any]:
    """A JSON-safe dict of ``state``."""
    encoded = to_json(state)
    assert isinstance(encoded, dict)
    return encoded


def rule_state_from_payload(payload: Mapping[str, Any]) -> RuleState:
    """The rule state stored by :func:`rule_state_payload`."""
    state = from_json(RuleState, dict(payload))
    assert isinstance(state, RuleState)
    return state
