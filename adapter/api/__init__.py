"""The HTTP edge: a FastAPI app with a FHIR base at /fhir (docs/api.md).

    app = create_app(Settings(db_url="sqlite:///omop.sqlite"))   # or `mds-adapter serve`

Routes per FHIR interaction family: metadata.py (CapabilityStatement, /health), operations.py
(terminology $translate / $lookup / $validate-code), bundles.py (batch and transaction POST,
with ingest.py doing the checks and the write), admin.py (receipts). outcomes.py is the one
error shape, auth.py the bearer tokens and scopes, middleware.py the size limit and the log.
"""

from adapter.api.app import create_app

__all__ = ["create_app"]
