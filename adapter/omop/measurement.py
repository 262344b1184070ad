"""MEASUREMENT: Cancer Modifier rows linked to the tumour (or the surgery), and numbers.

- linked to the condition (1147127): anatomic_region (Cancer Modifier site), histologic_grade
  (Grade-1/2/3/L/H), tumour_depth, metastasis_at_diagnosis, one row per metastasis site,
  AJCC T/N/M and stage group (the un-prefixed AJCC 8th concept of the loaded vocabulary:
  staging.py), tumour_size_cm (36768664, unit 8582 cm)
- linked to the surgery (1147082), else the condition: surgical_margin_r (R0/R1/R2),
  percent_necrosis_post_neoadjuvant (local 2000300042, unit 8554 %)
- linked to the radiotherapy: radiotherapy_total_dose_gy (local 2000300041, unit_source_value
  Gy: no UCUM Gy concept in the subset), radiotherapy_fractions (4037631)

For the modifiers the concept *is* the value (OHDSI Oncology convention, as IDEA4RC's SQL reads
it) and measurement_source_value keeps the MDS code; a code with no concept (GX, T1a, RX, …)
is written to OBSERVATION under the element's question instead of a concept-0 measurement.
The reverse table (concept → element, code) is derived from the maps; metastasis sites are read
back as a set, in dictionary order (a multi-select has no order).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from adapter.errors import Level
from adapter.mds.dictionary import element
from adapter.omop.mapping import MODIFIERS, PERSON, Reader, Resolver, Writer
from adapter.omop.rows import Ref
from adapter.omop.staging import STAGED, concept_code, element_of_code

__all__ = ["NUMBERS", "from_omop", "to_omop"]

NUMBERS = (
    # element, unit key (conventions.csv) or None, unit source value, linked treatment
    ("tumour_size_cm", "unit.cm", "cm", None),
    ("percent_necrosis_post_neoadjuvant", "unit.percent", "%", "surgery"),
    ("radiotherapy_total_dose_gy", "unit.gy", "Gy", "radiotherapy"),
    ("radiotherapy_fractions", None, None, "radiotherapy"),
)
_LIST = "metastasis_sites_at_diagnosis"
_SITE_ORDER = {code: i for i, code in enumerate(element(_LIST).codes)}
_INTEGERS = frozenset({"radiotherapy_fractions"})


def _row(w: Writer, key: str, concept: int, date: dt.date | None, event: Ref, type_concept: int,
         **values: Any) -> None:  # fmt: skip
    w.add("measurement", {
        "measurement_id": Ref("measurement", key),
        "person_id": PERSON,
        "measurement_concept_id": concept,
        "measurement_date": date,
        "measurement_type_concept_id": type_concept,
        "measurement_event_id": event,
        "meas_event_field_concept_id": w.c.ids[f"field.{event.table}"],
        **values,
    })  # fmt: skip


def _staged(w: Writer, resolve: Resolver, name: str, code: str) -> int | None:
    """The un-prefixed AJCC 8th concept of a staging code in the loaded vocabulary (staging.py);
    None (reported) when the vocabulary lacks it, nothing reported when no concept exists."""
    wanted = concept_code(name, code)
    if wanted is None:
        return None
    found = resolve("Cancer Modifier", wanted)
    if found is None:
        w.finding("omop.concept-not-in-vocabulary", Level.WARNING,
                  f"no Cancer Modifier concept {wanted} in the loaded vocabulary: {name} {code} "
                  "written as an OBSERVATION under its question concept",
                  (name,), (code,))  # fmt: skip
    return found


def to_omop(w: Writer, resolve: Resolver) -> None:
    r, c = w.record, w.c
    for name in MODIFIERS:
        value = getattr(r, name)
        if value is None:
            continue
        event, date, kind = w.event("surgery" if name == "surgical_margin_r" else "")
        for code in value if name == _LIST else (value,):
            key = f"{name}/{code}" if name == _LIST else name
            if name in STAGED:
                concept = _staged(w, resolve, name, code)
            else:
                concept = c.value.get((name, code))
            if concept is None and name in STAGED:  # the maps' value concepts are clinical
                w.observe(name, date, code=code, key=key, event=event, type_concept=kind,
                          value_as_concept_id=None)  # fmt: skip
            elif concept is None:
                w.observe(name, date, code=code, key=key, event=event, type_concept=kind)
            else:
                _row(w, key, concept, date, event, kind, measurement_source_value=code)
    for name, unit, unit_source, treatment in NUMBERS:
        number = getattr(r, name)
        if number is None:
            continue
        event, date, kind = w.event(treatment or "")
        _row(w, name, c.ids[f"measurement.{name}"], date, event, kind, value_as_number=number,
             unit_concept_id=c.ids[unit] if unit else None, unit_source_value=unit_source,
             measurement_source_value=name)  # fmt: skip


def from_omop(v: Reader) -> None:
    f, c = v.fields, v.c
    numbers = {c.ids[f"measurement.{name}"]: name for name, *_ in NUMBERS}
    sites: list[str] = []
    for m in v.table("measurement"):
        concept = m.get("measurement_concept_id")
        name = numbers.get(concept)  # type: ignore[arg-type]
        if name is not None:
            number = m.get("value_as_number")
            if number is not None:
                f[name] = round(float(number)) if name in _INTEGERS else float(number)
            continue
        candidates = c.modifier_of.get(concept, ())  # type: ignore[arg-type]
        source = m.get("measurement_source_value")
        staged = element_of_code(str(source)) if source is not None else None
        if staged is not None and not any(p[0] == staged for p in candidates):
            candidates = ((staged, str(source)),)  # an AJCC 8th concept the maps do not name
        chosen = [p for p in candidates if source is None or p[1] == source]
        if len({p[0] for p in chosen}) != 1 or (source is None and len(chosen) != 1):
            continue
        name, code = chosen[0]
        if name == _LIST:
            sites.append(code)
        else:
            f[name] = code
    if sites:
        f[_LIST] = sorted(set(sites) | set(f.get(_LIST) or ()), key=_SITE_ORDER.__getitem__)
