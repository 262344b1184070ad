"""What the admin tests share: the generated batch with labelled defects, and its fixes.

Ten synthetic records (seed 5, a fifth with a labelled defect: records 3 and 8, rules R03 and
R07). The fix of a defective record is the generator's clean record of the same index (a
defect is one mutation of it).
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from adapter.fhir import to_fhir
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.stores.record_store import adapter_name
from adapter.terminology import Terminology
from tests.api.conftest import WRITE, bundle
from tests.db.helpers import dialect_of, rows

__all__ = [
    "SEED",
    "N",
    "clean",
    "defective",
    "fhir_entries",
    "person_of",
    "post_defective_batch",
    "url_of",
]

N, SEED = 10, 5


def url_of(client: TestClient) -> str:
    return str(client.app.state.api.settings.db_url)  # type: ignore[attr-defined]


def defective() -> list[tuple[int, MdsRecord, str]]:
    return [(i, r, rule) for i, (r, rule) in enumerate(generate(N, SEED, defects=0.2)) if rule]


def clean(index: int) -> MdsRecord:
    return list(generate(N, SEED))[index][0]


def fhir_entries(record: MdsRecord) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = to_fhir(record, Terminology.load())["entry"]
    return entries


def post_defective_batch(client: TestClient) -> None:
    items = [e for r, _ in generate(N, SEED, defects=0.2) for e in fhir_entries(r)]
    assert client.post("/fhir", json=bundle("batch", items), headers=WRITE).status_code == 200


def person_of(url: str, record_id: str) -> list[tuple[Any, ...]]:
    """The PERSON row ids of a stored record, through the record store's crosswalk."""
    pg = dialect_of(url) == "postgresql"
    records = adapter_name("records", "postgresql" if pg else "sqlite")
    xwalk = adapter_name("crosswalk", "postgresql" if pg else "sqlite")
    person = "cdm.person" if pg else "person"
    return rows(url, f"SELECT p.person_id FROM {records} r JOIN {xwalk} x ON x.record_no = "
                f"r.record_no AND x.table_name = 'person' JOIN {person} p ON p.person_id = x.id "
                f"WHERE r.record_id = '{record_id}' AND NOT r.deleted")  # fmt: skip
