"""What the routes share: settings, the database engine, the terminology and the validator.

Built once per app by `create_app`, so tests make as many independent apps as they like and
nothing is read from the environment while serving. The engine connects lazily: an app over
an unreachable database still starts, and `/health` says 503.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from adapter.api.jwt_tokens import JwtVerifier
from adapter.config import Settings
from adapter.fhir.profiles import load_profiles
from adapter.fhir.validate import Validator
from adapter.stores.audit import ensure_audit
from adapter.stores.fhir_index import ensure_patient_index
from adapter.stores.omop_db import connect
from adapter.stores.pseudonym import Pseudonymiser
from adapter.stores.submissions import GroupWriter
from adapter.terminology import Terminology

__all__ = ["ApiState"]


@dataclass
class ApiState:
    settings: Settings
    engine: Engine
    terminology: Terminology
    validator: Validator
    pseudonym: Pseudonymiser | None
    jwt: JwtVerifier | None = None
    _made: set[Callable[[Engine], None]] = field(default_factory=set, repr=False)
    _made_guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    _writer: GroupWriter | None = field(default=None, repr=False)
    _writer_guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> ApiState:
        key = settings.pseudonym_key
        return cls(
            settings=settings,
            engine=connect(settings.db_url),
            terminology=Terminology.load(settings.terminology_dir),
            validator=Validator(load_profiles(settings.profiles_dir)),
            pseudonym=Pseudonymiser(key.get_secret_value()) if key is not None else None,
            jwt=JwtVerifier.from_settings(settings),
        )

    def ensure(self, make: Callable[[Engine], None]) -> Engine:
        """The engine, once `make(engine)` has run in this app (tables made on first use:
        CREATE ... IF NOT EXISTS, so a database from before the feature works unchanged).
        A `make` that raises is tried again by the next caller."""
        if make not in self._made:
            with self._made_guard:
                if make not in self._made:
                    make(self.engine)
                    self._made.add(make)
        return self.engine

    def audit_engine(self) -> Engine:
        """The engine, with the audit table made on first use (see adapter/stores/audit.py)."""
        return self.ensure(ensure_audit)

    def patient_index_engine(self) -> Engine:
        """The engine, with the Patient id index made on first use (adapter/stores/fhir_index)."""
        return self.ensure(ensure_patient_index)

    def writer(self, pseudonym: Pseudonymiser) -> GroupWriter:
        """The app's one group-commit writer of submissions (adapter/stores/submissions.py)."""
        with self._writer_guard:
            if self._writer is None:
                self._writer = GroupWriter(self.engine, pseudonym=pseudonym,
                                           terminology=self.terminology)  # fmt: skip
            return self._writer
