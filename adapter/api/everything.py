"""`GET /fhir/Patient/{id}/$everything`: one stored record's resources, as a searchset Bundle.

Built from the record the store kept (its canonical MDS JSON), not from the OMOP rows: the
resources are the ones `to_fhir` emits for that record (same ids, same content), served with
relative references (adapter/fhir/served.py), so reading the Bundle back gives the record that
was posted. The Patient id is found through the index of adapter/stores/fhir_index.py. An
unknown or deleted Patient is 404. Scope `export.read`; a token limited to some institutions
(`institutions` of a configured key, `mds_institutions` of a JWT) gets 404 for a Patient of
any other, as if it were not stored, so ids of other centres cannot be probed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.exc import SQLAlchemyError

from adapter.api.auth import Client, require
from adapter.api.outcomes import ApiError, FhirResponse
from adapter.api.state import ApiState
from adapter.config import Scope
from adapter.fhir.served import searchset, served_resources
from adapter.mds.record import MdsRecord
from adapter.stores.fhir_index import record_of_patient, sync_patient_index

__all__ = [
    "everything",
    "fhir_base",
    "patient_record",
    "router",
    "store_unavailable",
    "visible_record",
]

router = APIRouter(tags=["fhir"])


def fhir_base(request: Request) -> str:
    """The FHIR base URL as the client reached it."""
    return str(request.base_url).rstrip("/") + "/fhir"


def store_unavailable() -> ApiError:
    """503 for a database that does not answer or has no record store (`db init`)."""
    return ApiError(503, "the record store is not available (database down or not initialised)",
                    code="transient")  # fmt: skip


def patient_record(request: Request, patient: str) -> MdsRecord | None:
    """The stored record whose Patient has this id (None: unknown or deleted)."""
    state: ApiState = request.app.state.api
    with state.patient_index_engine().begin() as conn:
        sync_patient_index(conn)
        return record_of_patient(conn, patient)


def visible_record(request: Request, patient: str, client: Client) -> MdsRecord | None:
    """The stored record of a Patient id as this client may see it: None when unknown,
    deleted, or of an institution the token is not limited to (as if it were not there)."""
    try:
        record = patient_record(request, patient)
    except SQLAlchemyError as exc:
        raise store_unavailable() from exc
    if record is None or not client.reads(record.institution):
        return None
    return record


@router.get("/fhir/Patient/{patient_id}/$everything", response_class=FhirResponse)
def everything(
    request: Request,
    patient_id: Annotated[str, Path(max_length=64)],
    client: Annotated[Client, Depends(require(Scope.EXPORT_READ))],
) -> FhirResponse:
    """Every resource of the Patient's record (see the module docstring)."""
    record = visible_record(request, patient_id, client)
    if record is None:
        raise ApiError(404, "no such Patient", expression=["Patient.id"])
    state: ApiState = request.app.state.api
    found = served_resources(record, state.terminology)
    return FhirResponse(searchset(found, fhir_base(request), str(request.url)))
