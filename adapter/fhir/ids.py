"""Deterministic resource ids and business identifiers, so the same record gives the same bytes.

Each resource of a record has a role (`patient`, `surgery`, `metastasis-2`, …). Its id is
UUID5(institution | record_id | role): converting a record twice gives identical bundles, and a
changed record replaces its resources instead of adding new ones. Its business identifier has
one system per institution (`https://w3id.org/sarcoma-mds/fhir/sid/<institution, %-encoded>`)
and the value `<record_id>` (Patient) or `<record_id>/<role>`, which the transaction Bundle's
conditional PUTs (`Patient?identifier=<system>|<value>`) match on, so a second post of the
same bundle creates nothing. An Organization is shared by the records of its institution
(and country).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from adapter.fhir.codes import Codec, Resource
from adapter.mds.record import MdsRecord

__all__ = ["SID", "Build", "Ids", "institution_of_system", "resource_uuid"]

SID = "https://w3id.org/sarcoma-mds/fhir/sid/"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://w3id.org/sarcoma-mds/fhir")
_NAMESPACE_BYTES = _NAMESPACE.bytes
_NO_INSTITUTION = "_"


def resource_uuid(institution: str | None, record_id: str, role: str) -> str:
    """uuid.uuid5(namespace, "institution|record_id|role"), computed without the UUID object.

    (Three times faster than `str(uuid.uuid5(...))`; a test checks both give the same id.)
    """
    name = f"{institution or ''}|{record_id}|{role}".encode()
    h = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def institution_of_system(system: str) -> str | None:
    """The institution a business identifier system names, if it is one of ours."""
    if not system.startswith(SID):
        return None
    name = unquote(system[len(SID) :])
    return None if name == _NO_INSTITUTION else name


class Ids:
    """Ids, references and identifiers of one record's resources."""

    def __init__(self, institution: str | None, record_id: str, country: str | None = None) -> None:
        self.institution = institution
        # an institution's Organization is shared; one per country keeps inconsistent records
        # (same institution, different countries) apart instead of overwriting each other
        self._organization = "organization" + (f"/{country}" if country else "")
        self.record_id = record_id
        self.system = SID + quote(institution or _NO_INSTITUTION, safe="")
        self._cache: dict[str, str] = {}

    def id(self, role: str) -> str:
        found = self._cache.get(role)
        if found is None:
            if role == "organization" and self.institution is not None:
                found = resource_uuid(self.institution, "", self._organization)
            else:
                found = resource_uuid(self.institution, self.record_id, role)
            self._cache[role] = found
        return found

    def ref(self, role: str) -> dict[str, str]:
        return {"reference": "urn:uuid:" + self.id(role)}

    def value(self, role: str) -> str:
        if role == "patient":
            return self.record_id
        if role == "organization" and self.institution is not None:
            return self._organization
        return f"{self.record_id}/{role}"

    def identifier(self, role: str) -> list[dict[str, str]]:
        return [{"system": self.system, "value": self.value(role)}]


@dataclass(slots=True)
class Build:
    """What a spoke's to_fhir needs: the record, the codes and the ids."""

    record: MdsRecord
    codec: Codec
    ids: Ids

    def new(self, kind: str, role: str, profile: str | None) -> Resource:
        """A resource with id, profile, business identifier and (unless Organization) subject."""
        out: dict[str, Any] = {"resourceType": kind, "id": self.ids.id(role)}
        if profile:
            out["meta"] = {"profile": [profile]}
        out["identifier"] = self.ids.identifier(role)
        if kind in _SUBJECT:
            out[_SUBJECT[kind]] = self.ids.ref("patient")
        return out


_SUBJECT = {
    "Condition": "subject",
    "Observation": "subject",
    "Procedure": "subject",
    "MedicationAdministration": "subject",
    "Encounter": "subject",
    "EpisodeOfCare": "patient",
}
