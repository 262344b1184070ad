"""Settings from the environment (prefix `MDS_ADAPTER_`), read once at the edges.

The pure core takes what it needs as arguments; only the CLI, the API and the stores read
settings, so a test can pass a URL without touching the environment.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DB_URL", "Settings", "settings"]

DEFAULT_DB_URL = "sqlite:///omop.sqlite"


class Settings(BaseSettings):
    """`MDS_ADAPTER_DB_URL`: where the OMOP database is (SQLAlchemy URL).

    The default is a SQLite file in the working directory, so `mds-adapter db init` works with
    nothing installed; PostgreSQL is `postgresql+psycopg://user@host:5432/dbname`.
    """

    model_config = SettingsConfigDict(env_prefix="MDS_ADAPTER_", extra="ignore")

    db_url: str = DEFAULT_DB_URL


def settings() -> Settings:
    """Fresh settings: the environment is read on each call, never cached at import."""
    return Settings()
