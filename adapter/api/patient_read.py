"""`GET /fhir/Patient/{id}` and `GET /fhir/Patient?identifier=system|value`: what a FHIR client
does with the Location a transaction answered, and how it finds a Patient it knows by its
business identifier.

Both read the record the store kept (as `$everything` does, adapter/api/everything.py) and
answer the Patient resource `to_fhir` emits for it, so the id in a transaction response's
Location reads back. The identifier names the institution in its system (adapter/fhir/ids.py)
and the record id in its value; a system that is not ours matches nothing (an empty searchset,
as FHIR search does), and other search parameters are 400: this server searches by identifier
only. Scope `export.read`; a token limited to some institutions sees only theirs (404 / no
match for the others, so ids of other centres cannot be probed).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from adapter.api.auth import Client, require
from adapter.api.everything import fhir_base, visible_record
from adapter.api.outcomes import ApiError, FhirResponse
from adapter.api.state import ApiState
from adapter.config import Scope
from adapter.fhir.ids import SID, institution_of_system
from adapter.fhir.served import searchset, served_resources
from adapter.mds.record import MdsRecord
from adapter.stores.fhir_index import patient_id

__all__ = ["read_patient", "router", "search_patient"]

router = APIRouter(tags=["fhir"])


def _patient(request: Request, record: MdsRecord) -> dict[str, Any]:
    state: ApiState = request.app.state.api
    found: dict[str, Any] = next(
        r for r in served_resources(record, state.terminology) if r["resourceType"] == "Patient"
    )
    return found


@router.get("/fhir/Patient/{patient_id}", response_class=FhirResponse)
def read_patient(
    request: Request,
    patient_id: Annotated[str, Path(max_length=64)],
    client: Annotated[Client, Depends(require(Scope.EXPORT_READ))],
) -> FhirResponse:
    """The Patient of a stored record (FHIR read); 404 when unknown, deleted or not yours."""
    record = visible_record(request, patient_id, client)
    if record is None:
        raise ApiError(404, "no such Patient", expression=["Patient.id"])
    return FhirResponse(_patient(request, record))


@router.get("/fhir/Patient", response_class=FhirResponse)
def search_patient(
    request: Request,
    client: Annotated[Client, Depends(require(Scope.EXPORT_READ))],
) -> FhirResponse:
    """Patients by `identifier=system|value` (FHIR search); a searchset Bundle."""
    params = list(request.query_params.multi_items())
    names = {name for name, _ in params}
    if names != {"identifier"} or len(params) != 1:
        raise ApiError(400, f"search Patient by identifier=system|value only (e.g. identifier="
                       f"{SID}<institution>|<record id>); got {sorted(names) or 'no parameter'}",
                       code="not-supported")  # fmt: skip
    system, bar, value = params[0][1].partition("|")
    if not bar or not system or not value:
        raise ApiError(400, "identifier must be system|value", expression=["identifier"])
    found: list[dict[str, Any]] = []
    if system.startswith(SID):
        record = visible_record(request, patient_id(institution_of_system(system), value), client)
        if record is not None and record.record_id == value:
            found.append(_patient(request, record))
    return FhirResponse(searchset(found, fhir_base(request), str(request.url)))
