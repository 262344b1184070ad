"""Keyed pseudonyms for every source identifier that reaches the `cdm` part.

The CDM holds no direct identifier (DESIGN.md, Storage): `person_source_value` and every other
source id is HMAC-SHA256(key, value), so the same record always gets the same pseudonym (loads
are idempotent, ids can be matched across loads by whoever holds the key) and nobody without
the key can test a guessed record id against it, as they could against a plain hash.

The key comes from configuration (`MDS_ADAPTER_PSEUDONYM_KEY`) and is never written to the
database; there is no default, because a default key is a published key. Only a fingerprint
(an HMAC of a fixed label, which reveals nothing about the key) is kept with each stored
record, so a load with another key re-maps every record instead of mixing pseudonyms.

Pseudonyms are the first 160 bits of the HMAC in hex (40 characters): CDM `*_source_value`
columns are varchar(50), and 160 bits keeps collisions out of reach for any registry size.
"""

from __future__ import annotations

import hashlib
import hmac

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapter.errors import ConfigurationError

__all__ = [
    "KEY_VARIABLE",
    "MIN_KEY_LENGTH",
    "PseudonymSettings",
    "Pseudonymiser",
    "pseudonymiser_from_settings",
]

KEY_VARIABLE = "MDS_ADAPTER_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 16
_HEX_CHARS = 40
_FINGERPRINT_LABEL = b"mds-adapter pseudonym key fingerprint v1"


class PseudonymSettings(BaseSettings):
    """`MDS_ADAPTER_PSEUDONYM_KEY`: the HMAC key; kept as a secret so it never shows in reprs."""

    model_config = SettingsConfigDict(env_prefix="MDS_ADAPTER_", extra="ignore")

    pseudonym_key: SecretStr | None = None


class Pseudonymiser:
    """`pseudonym(value)`: a callable for `to_omop(..., pseudonym=...)`, holding the key."""

    __slots__ = ("_key",)

    def __init__(self, key: str | bytes) -> None:
        raw = key.encode("utf-8") if isinstance(key, str) else key
        if len(raw) < MIN_KEY_LENGTH:
            raise ConfigurationError(
                f"{KEY_VARIABLE} is too short ({len(raw)} bytes): use at least "
                f"{MIN_KEY_LENGTH}, e.g. `openssl rand -hex 32`"
            )
        self._key = raw

    def __call__(self, value: str) -> str:
        digest = hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        return digest[:_HEX_CHARS]

    def __repr__(self) -> str:
        return f"Pseudonymiser(fingerprint={self.fingerprint!r})"

    @property
    def fingerprint(self) -> str:
        """Tells keys apart without revealing them: an HMAC of a fixed label, 16 hex digits."""
        return hmac.new(self._key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


def pseudonymiser_from_settings(settings: PseudonymSettings | None = None) -> Pseudonymiser:
    """The configured pseudonymiser; a missing key stops the command before any work."""
    key = (settings or PseudonymSettings()).pseudonym_key
    if key is None or not key.get_secret_value():
        raise ConfigurationError(
            f"{KEY_VARIABLE} is not set: loading needs the secret key for the pseudonyms in the "
            "CDM (generate one with `openssl rand -hex 32` and keep it outside the database)"
        )
    return Pseudonymiser(key.get_secret_value())
