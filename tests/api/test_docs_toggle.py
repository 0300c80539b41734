"""``PROPDESK_DOCS=false`` turns off /docs, /redoc and /openapi.json (issue 14)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from propdesk.api.app import create_app
from propdesk.services.context import ServiceContext
from propdesk.settings import Settings

PAGES = ("/docs", "/redoc", "/openapi.json")


@pytest.mark.parametrize("docs", [True, False])
def test_docs_follow_the_setting(engine: Engine, docs: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPDESK_DOCS", str(docs).lower())
    settings = Settings()
    assert settings.docs is docs
    client = TestClient(create_app(ServiceContext(engine=engine, settings=settings)))
    assert {page: client.get(page).status_code for page in PAGES} == dict.fromkeys(
        PAGES, 200 if docs else 404
    )
    assert client.get("/healthz").status_code == 200
