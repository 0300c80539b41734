"""The expiry tests' desk fixture (see :mod:`tests.services.daily.desk`)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests.services.daily.desk import Desk, make_desk


@pytest.fixture
def desk(engine: Engine) -> Desk:
    return make_desk(engine)
