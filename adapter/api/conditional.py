"""What a Bundle entry asks for (`Bundle.entry.request`), checked against what it carries.

FHIR R4 (http.html#transaction) lets each entry name its interaction. The adapter stores MDS
records keyed by institution + record id, which is the Patient's business identifier
(adapter/fhir/ids.py), so:

- PUT `Type?identifier=system|value` (conditional update, what `to_fhir` writes) or `Type/id`:
  the URL must name the entry's own resource type and one of its identifiers (or its id);
- POST `Type`, optionally with `ifNoneExist: identifier=system|value` (conditional create):
  that identifier must be the resource's; a Patient posted that way leaves a stored record as
  it is (200, no change);
- DELETE `Patient?identifier=system|value` (conditional delete): the record with that
  identifier goes, with all its CDM rows (a tombstone, adapter/stores/incoming.py);
  DELETE `Patient/<id>`: the same, for the record whose Patient has that id. The id is a hash
  of the identifier (adapter/fhir/ids.py), so it is looked up in the Patient index
  (adapter/stores/fhir_index.py) when the Bundle is written (adapter/api/ingest.py). The MDS
  record is the unit: deleting one Observation is not supported.

No request means PUT. Anything else (GET, PATCH, a URL naming another resource or identifier)
is an issue naming `Bundle.entry[i].request.method`, `.url` or `.ifNoneExist`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from adapter.api.outcomes import issue
from adapter.fhir.ids import SID, institution_of_system
from adapter.stores.incoming import Tombstone

__all__ = ["EntryRequest", "check_request", "search_identifier"]

_METHODS = ("POST", "PUT", "DELETE")
_PATIENT_ID = re.compile(r"Patient/([A-Za-z0-9\-.]{1,64})")  # FHIR R4 id syntax


@dataclass(frozen=True, slots=True)
class EntryRequest:
    """A checked entry request: its method, whether it only creates, what it deletes (a
    record by identifier, or the record of a Patient id, found later in the database)."""

    method: str
    create_only: bool = False
    delete: Tombstone | None = None
    patient: str | None = None


def search_identifier(query: str) -> tuple[str, str] | None:
    """(system, value) of `identifier=system|value` (percent-decoded), else None."""
    name, _, found = query.partition("=")
    system, bar, value = found.partition("|")
    if name != "identifier" or not bar or not system or not value or "&" in found:
        return None
    return unquote(system), unquote(value)


def _has_identifier(resource: dict[str, Any], wanted: tuple[str, str]) -> bool:
    given = resource.get("identifier")
    return isinstance(given, list) and any(
        isinstance(x, dict) and (x.get("system"), x.get("value")) == wanted for x in given
    )


def _delete(url: str, where: str) -> EntryRequest | dict[str, Any]:
    kind, _, query = url.partition("?")
    found = search_identifier(query)
    by_id = _PATIENT_ID.fullmatch(url)
    if by_id is not None:
        return EntryRequest("DELETE", patient=by_id.group(1))
    if kind != "Patient" or not found:
        return issue("not-supported", "a delete names a Patient, by id (Patient/<id>) or by "
                     "business identifier (Patient?identifier=<system>|<value>): the MDS "
                     "record is the unit", expression=[f"{where}.request.url"])  # fmt: skip
    system, record_id = found
    if not system.startswith(SID):
        return issue("not-found", f"the identifier system is not an MDS one ({SID}…)",
                     expression=[f"{where}.request.url"])  # fmt: skip
    institution = institution_of_system(system)
    return EntryRequest("DELETE", delete=Tombstone(record_id, institution or ""))


def _mismatch(where: str, element: str, what: str) -> dict[str, Any]:
    return issue("invalid", f"request.{element} names {what} other than the entry's resource",
                 expression=[f"{where}.request.{element}"])  # fmt: skip


def check_request(entry: dict[str, Any], where: str) -> EntryRequest | dict[str, Any]:
    """The entry's request, or an issue saying what is wrong with it (see the docstring)."""
    request = entry.get("request")
    if request is None:
        if not isinstance(entry.get("resource"), dict):
            return issue("structure", "an entry needs a resource", expression=[where])
        return EntryRequest("PUT")
    method = request.get("method") if isinstance(request, dict) else None
    if not isinstance(request, dict) or method not in _METHODS:
        return issue("not-supported", "entries are created, updated or deleted (POST, PUT, "
                     "DELETE); reads are not supported here",
                     expression=[f"{where}.request.method"])  # fmt: skip
    url = request.get("url")
    if not isinstance(url, str) or not url:
        return issue("required", "request.url is required", expression=[f"{where}.request.url"])
    if method == "DELETE":
        return _delete(url, where)
    resource = entry.get("resource")
    if not isinstance(resource, dict):
        return issue("structure", "an entry needs a resource", expression=[where])
    kind, _, rest = url.partition("?")
    kind, slash, given_id = kind.partition("/")
    if kind != resource.get("resourceType"):
        return _mismatch(where, "url", "a resource type")
    if method == "PUT":
        if slash and not rest and given_id == resource.get("id"):
            return EntryRequest("PUT")
        wanted = search_identifier(rest) if not slash else None
        if wanted is None or not _has_identifier(resource, wanted):
            return _mismatch(where, "url", "an identifier or id")
        return EntryRequest("PUT")
    if slash or rest:
        return issue("invalid", "a POST names the resource type only (Type)",
                     expression=[f"{where}.request.url"])  # fmt: skip
    condition = request.get("ifNoneExist")
    if condition is None:
        return EntryRequest("POST")
    wanted = search_identifier(condition) if isinstance(condition, str) else None
    if wanted is None or not _has_identifier(resource, wanted):
        return _mismatch(where, "ifNoneExist", "an identifier")
    return EntryRequest("POST", create_only=True)
