from sqlalchemy.engine import Engine

from propdesk.services.access.tokens import Role, authenticate, create_token, token_authenticator
from tests.db import StepClock


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_valid_tokens_are_remembered_for_the_ttl_and_wrong_ones_never(engine: Engine) -> None:
    principal, token = create_token(engine, role=Role.SERVICE, name="bot", clock=StepClock())
    ticks = Ticks()
    cached = token_authenticator(engine, ttl_seconds=30, monotonic=ticks)
    assert cached(token) == principal
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM api_tokens")
    ticks.now = 29.0
    assert cached(token) == principal  # remembered: no lookup within the TTL
    ticks.now = 31.0
    assert cached(token) is None  # the deleted token is gone after the TTL
    assert authenticate(engine, token) is None
    assert cached(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_tokens_are_stored_only_as_hashes(engine: Engine) -> None:
    _, token = create_token(engine, role=Role.ADMIN, name="ops", clock=StepClock())
    with engine.connect() as conn:
        (stored,) = conn.exec_driver_sql("SELECT secret_hash FROM api_tokens").one()
    secret = token.split("_", 2)[2]
    assert secret not in stored
    assert len(stored) == 64
