"""What the OMOP tables cannot give back: the declared loss list, one entry per MDS element.

- `mapped`: MDS → OMOP → MDS gives the value back unchanged (from the CDM rows alone).
- `normalised`: given back up to a declared normalisation (`normalise`), e.g. the order of a
  multi-select.
- `kept-in-record-store`: the CDM holds only a pseudonym; the value lives in the record store
  (adapter part) and the store puts it back.
- `lossy`: not always given back, and why.

The round-trip test (tests/unit/omop/test_identity.py) fails when an element is lost that is
not declared here, or declared lost but given back; docs/omop-loss.md is generated from this
table (`render()`) and checked for drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from adapter.mds.dictionary import element
from adapter.mds.record import MdsRecord

__all__ = [
    "LOSSES",
    "REGIMEN_LENGTH",
    "Loss",
    "Status",
    "as_exported",
    "expected_back",
    "normalise",
    "render",
]

Status = Literal["mapped", "normalised", "kept-in-record-store", "lossy"]


@dataclass(frozen=True, slots=True)
class Loss:
    status: Status
    why: str = ""


_PSEUDONYM = (
    "the CDM holds no clear identifier (DESIGN.md, Storage): {column} is the keyed pseudonym; "
    "the store keeps the clear value and {back}"
)
_DECLARED: dict[str, Loss] = {
    "record_id": Loss("kept-in-record-store", _PSEUDONYM.format(
        column="PERSON.person_source_value",
        back="passes it to from_omop (record_id=); without it the pseudonym stands in")),
    "institution": Loss("kept-in-record-store", _PSEUDONYM.format(
        column="CARE_SITE.care_site_source_value", back="re-adds it on export")),
    "metastasis_sites_at_diagnosis": Loss(
        "normalised", "one MEASUREMENT per site: read back as a set, in dictionary order"),
    "systemic_regimen": Loss(
        "lossy", "OBSERVATION.value_as_string holds 60 characters: a longer text comes back cut "
        "to its first 60 and is reported when written (omop.truncated); the record store "
        "keeps it whole"),
}  # fmt: skip
LOSSES: dict[str, Loss] = {
    name: _DECLARED.get(name, Loss("mapped")) for name in MdsRecord.model_fields
}


REGIMEN_LENGTH = 60
"""OBSERVATION.value_as_string is varchar(60) (adapter/omop/observation.py TEXT_LENGTH)."""


def normalise(name: str, value: Any) -> Any:
    """The value as a `normalised` (or, where it is predictable, `lossy`) element comes back."""
    if name == "metastasis_sites_at_diagnosis" and value is not None:
        order = element(name).codes
        return sorted(value, key=order.index)
    if name == "systemic_regimen" and value is not None:
        return value[:REGIMEN_LENGTH]
    return value


def expected_back(record: MdsRecord, *, record_id_given: bool = True) -> dict[str, Any]:
    """What from_omop should give back for `record`, element by element, per the list."""
    out: dict[str, Any] = {}
    for name, loss in LOSSES.items():
        value = getattr(record, name)
        if loss.status == "kept-in-record-store":
            value = record.record_id if name == "record_id" and record_id_given else None
        elif loss.status in ("normalised", "lossy"):
            value = normalise(name, value)
        out[name] = value
    return out


def as_exported(record: MdsRecord) -> MdsRecord:
    """The record as `export --from cdm` gives it back: the CDM's declared losses applied, and
    what the record store keeps (record id, institution) put back as the store does."""
    changes = {
        name: normalise(name, getattr(record, name))
        for name, loss in LOSSES.items()
        if loss.status in ("normalised", "lossy")
    }
    return record.model_copy(update=changes)


def render() -> str:
    """docs/omop-loss.md."""
    lines = [
        "# What OMOP loses",
        "",
        "Generated from `adapter/omop/losses.py` (`python -m adapter.omop.losses > "
        "docs/omop-loss.md`); a test fails when this page drifts from the list, and the "
        "round-trip test on 10,000 generated records fails when an element is lost that is "
        "not declared here, or declared lost but given back.",
        "",
        "`mapped`: the CDM rows alone give the value back. `normalised`: given back up to the "
        "stated normalisation. `kept-in-record-store`: the CDM holds a pseudonym only; the "
        "record store (adapter part) keeps the value. `lossy`: not always given back.",
        "",
        "| element | status | why |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {loss.status} | {loss.why} |" for name, loss in LOSSES.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
