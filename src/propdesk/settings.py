"""Runtime settings from the environment (prefix ``PROPDESK_``) or a ``.env`` file.

Nothing reads the environment at import time: call :func:`load_settings` in an entry point and
pass the result down.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///propdesk.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROPDESK_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://… in production",
    )
    database_echo: bool = False


def load_settings() -> Settings:
    return Settings()
