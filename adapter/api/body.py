"""Reading a FHIR JSON request body: media type, then orjson, with errors as OperationOutcomes.

Bodies are parsed by hand rather than by a pydantic model: a model would coerce (`"0"` into a
number, ecosystem notes section 9) and answer pydantic's error shape; here JSON is JSON and the
profile validator decides what is wrong, naming FHIRPath locations.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from adapter.api.outcomes import FHIR_JSON, ApiError

__all__ = ["ACCEPTED", "fhir_json"]

ACCEPTED = (FHIR_JSON, "application/json")


async def fhir_json(request: Request) -> Any:
    """The parsed body; 415 for another media type, 400 for a body that is not JSON."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ACCEPTED:
        raise ApiError(415, f"send {FHIR_JSON} (or application/json), not {media or 'nothing'}")
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the body is not JSON (at byte {exc.pos})", code="structure") from exc
