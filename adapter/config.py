"""Settings from the environment (prefix `MDS_ADAPTER_`), read once at the edges.

The pure core takes what it needs as arguments; only the CLI, the API and the stores read
settings, so a test can pass a URL without touching the environment.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DB_URL", "ApiKey", "Scope", "Settings", "settings"]

DEFAULT_DB_URL = "sqlite:///omop.sqlite"


class Scope(StrEnum):
    """What a bearer token may do over HTTP (docs/api.md has the route → scope table)."""

    BUNDLE_WRITE = "bundle.write"
    EXPORT_READ = "export.read"
    TERMINOLOGY_WRITE = "terminology.write"
    ADMIN = "admin"


MIN_TOKEN_LENGTH = 16
"""Characters of a configured API token: a guessable short token is refused at start-up."""


class ApiKey(BaseModel):
    """One configured token: the client it stands for (logged, audited) and its scopes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client: str = Field(min_length=1, max_length=100)
    scopes: frozenset[Scope] = frozenset()
    institutions: frozenset[str] | None = None
    """The institutions whose records the token may read (`$everything`, `$export`) and write
    (posted records, deletes); absent: all. A centre's token:
    `{"client": "oslo", "scopes": [...], "institutions": ["OUS"]}`."""


class Settings(BaseSettings):
    """Every `MDS_ADAPTER_*` setting of the CLI and the API.

    - `db_url`: where the OMOP database is (SQLAlchemy URL). The default is a SQLite file in the
      working directory, so `mds-adapter db init` works with nothing installed; PostgreSQL is
      `postgresql+psycopg://user@host:5432/dbname`.
    - `pseudonym_key`: the HMAC key of the CDM pseudonyms (adapter/stores/pseudonym.py);
      the API needs it to accept bundles.
    - `api_keys`: bearer tokens as JSON, `{"token": {"client": "oslo", "scopes": [...]}}`,
      optionally with `"institutions": [...]`: the only institutions whose records it reads
      and writes.
      Tokens are secrets: the environment or a secret store, never the compose file.
    - `jwt_secret` (HS256), `jwt_public_key` (PEM file, RS256/ES256), `jwt_jwks_file`: keys
      that verify JWT bearer tokens (adapter/api/jwt_tokens.py), with the required `jwt_issuer`
      and `jwt_audience` and `jwt_leeway` seconds of clock skew; none set: no JWTs.
    - `api_open_terminology`: terminology reads ($translate, $lookup, $validate-code) need no
      token when true (they hold no patient data); when false any valid token may call them.
    - `max_body_bytes`: larger request bodies get 413 before being read whole.
    - `max_bundle_entries` (413 over it), `max_resources_per_patient` (the record is refused),
      `max_json_depth` and `max_string_length` (the node is refused): what one posted Bundle
      may hold, so that its cost stays linear and bounded (adapter/fhir/shape.py,
      adapter/api/guards.py). `max_quarantine_bytes`: what one quarantine item keeps of the
      rejected input (more is replaced by a note saying how much was left out).
    - `trusted_hosts`: the Host header values the API answers (JSON list; `*.example.org`
      allowed); any other gets 400, so the server cannot be reached under a name nobody set
      up (DNS rebinding, links built from a forged Host). Default `["*"]`: any.
    - `host` / `port`: where `mds-adapter serve` listens unless its options say otherwise.
    - `export_dir`: where Bulk Data `$export` jobs write their NDJSON files (one folder per
      job); default `mds-adapter-export` in the system's temp directory.
    - `export_retention_hours`: how long a finished export job and its files are kept (the
      status answer's `Expires` header says until when); older ones are removed by the next
      kick-off or poll.
    - `terminology_dir` / `profiles_dir`: the terminology/ and profiles/ folders when they are
      not next to the package (a wheel install, the Docker image); the core reads the same
      variables itself.

    Secrets have minimum lengths: the pseudonym key 16 bytes (adapter/stores/pseudonym.py), a
    JWT HS256 secret 32 bytes (RFC 7518), an API token 16 characters.
    """

    model_config = SettingsConfigDict(env_prefix="MDS_ADAPTER_", extra="ignore")

    db_url: str = DEFAULT_DB_URL
    trusted_hosts: list[str] = Field(default_factory=lambda: ["*"])
    pseudonym_key: SecretStr | None = None
    api_keys: dict[str, ApiKey] = Field(default_factory=dict, repr=False)
    jwt_secret: SecretStr | None = Field(default=None, repr=False)
    jwt_public_key: Path | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway: int = Field(default=30, ge=0, le=300)
    api_open_terminology: bool = True
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_bundle_entries: int = Field(default=10_000, gt=0)
    max_resources_per_patient: int = Field(default=500, gt=0)
    max_json_depth: int = Field(default=32, ge=8, le=200)
    max_string_length: int = Field(default=65_536, gt=0)
    max_quarantine_bytes: int = Field(default=1024 * 1024, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8080, gt=0, lt=65536)
    terminology_dir: Path | None = None
    profiles_dir: Path | None = None
    export_dir: Path | None = None
    export_retention_hours: float = Field(default=24.0, gt=0, le=24 * 365)

    @field_validator("api_keys")
    @classmethod
    def _tokens_long_enough(cls, value: dict[str, ApiKey]) -> dict[str, ApiKey]:
        short = [t for t in value if len(t) < MIN_TOKEN_LENGTH]
        if short:
            raise ValueError(
                f"{len(short)} API token(s) shorter than {MIN_TOKEN_LENGTH} characters: use "
                "random tokens, e.g. `openssl rand -hex 32`"
            )
        return value

    @field_validator("jwt_secret", "jwt_public_key", "jwt_jwks_file", "jwt_issuer",
                     "jwt_audience", mode="before")  # fmt: skip
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`VAR=` (compose's `${VAR:-}`) means unset: never an empty secret or the cwd."""
        return None if value == "" else value


def settings() -> Settings:
    """Fresh settings: the environment is read on each call, never cached at import."""
    return Settings()
