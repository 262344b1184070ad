"""The MDS as a REDCap project: one REDCap field per MDS element, and the data dictionary CSV.

A centre uploads the CSV that `write_redcap_dictionary` writes (REDCap: Project Setup → Data
Dictionary) and gets the MDS project; `adapter.sources.redcap` reads its exports back. The field
list is derived from the MDS dictionary, with three tables of REDCap-specific choices kept here
and nowhere else:

- `SHORT_NAMES`: REDCap recommends variable names of at most 26 characters; the five longer MDS
  names get a fixed short name (the reverse is derived, never typed twice).
- `SHOW_WHEN`: branching logic, so details appear only once the question they hang on has the
  answer that makes them apply (surgery date only when surgery was performed).
- Forms follow the dictionary's groups (patient, tumour, treatment, outcome).

Closed code lists become radio buttons (raw value = MDS code, label = `code_label`), the code
list becomes checkboxes, open code systems (country, ICD-O-3 topography and morphology: codes
like "C49.2" cannot be REDCap choice values) become text fields with a note, and the partial
birth date a text field (REDCap has no partial date type).

A centre's own data dictionary can be read with `read_redcap_dictionary`: its date validations
(date_dmy, date_mdy) and choice labels then drive reading that centre's exports.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from typing import IO

from adapter.errors import SourceError
from adapter.mds.dictionary import Element, element, elements
from adapter.mds.types import canonical_number
from adapter.sources.forms import bounds, code_label, element_label, unit_name

__all__ = [
    "COLUMNS",
    "FORMS",
    "SHORT_NAMES",
    "SHOW_WHEN",
    "RedcapField",
    "element_of",
    "mds_fields",
    "read_redcap_dictionary",
    "variable_of",
    "write_redcap_dictionary",
]

COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
FORMS = ("patient", "tumour", "treatment", "outcome")  # REDCap instruments, one per group

SHORT_NAMES = {
    "metastasis_sites_at_diagnosis": "metastasis_sites_at_dx",
    "systemic_therapy_start_date": "systemic_therapy_start_dt",
    "percent_necrosis_post_neoadjuvant": "percent_necrosis_post_neo",
    "disease_status_last_followup": "disease_status_last_fu",
    "distant_metastasis_after_diagnosis": "distant_mets_after_dx",
}
_ELEMENT_OF_SHORT = {v: k for k, v in SHORT_NAMES.items()}

# element → (the element it hangs on, the answers that show it). Values that say "there was
# none" (surgery_type none, radiotherapy_timing none, …) are valid without the treatment (R15),
# so those questions are always shown.
SHOW_WHEN: dict[str, tuple[str, tuple[str, ...]]] = {
    "metastasis_sites_at_diagnosis":
        ("metastasis_at_diagnosis", ("distant", "regional_nodes_only")),
    "surgery_date": ("surgery_performed", ("yes",)),
    "surgical_margin_enneking": ("surgery_performed", ("yes",)),
    "radiotherapy_start_date": ("radiotherapy_given", ("yes",)),
    "radiotherapy_end_date": ("radiotherapy_given", ("yes",)),
    "radiotherapy_total_dose_gy": ("radiotherapy_given", ("yes",)),
    "radiotherapy_fractions": ("radiotherapy_given", ("yes",)),
    "systemic_therapy_start_date": ("systemic_therapy_given", ("yes",)),
    "systemic_therapy_end_date": ("systemic_therapy_given", ("yes",)),
    "systemic_regimen": ("systemic_therapy_given", ("yes",)),
    "percent_necrosis_post_neoadjuvant":
        ("systemic_therapy_timing", ("neoadjuvant", "pre_and_post")),
    "date_of_death": ("vital_status", ("dead",)),
    "local_recurrence_date": ("local_recurrence", ("yes",)),
    "distant_metastasis_date": ("distant_metastasis_after_diagnosis", ("yes",)),
}  # fmt: skip

_VALIDATION = {"date": "date_ymd", "integer": "integer", "decimal": "number"}
_ANNOTATION = re.compile(r"\bMDS element ([a-z0-9_]+)")


def variable_of(name: str) -> str:
    """The REDCap variable name of an MDS element."""
    return SHORT_NAMES.get(name, name)


def element_of(variable: str) -> str:
    """The MDS element name of a REDCap variable (the inverse of `variable_of`)."""
    return _ELEMENT_OF_SHORT.get(variable, variable)


@dataclass(frozen=True, slots=True)
class RedcapField:
    """One REDCap field standing for one MDS element."""

    variable: str
    element: Element
    form: str
    field_type: str  # text, radio, dropdown or checkbox
    label: str
    choices: tuple[tuple[str, str], ...]  # (raw value, label), in REDCap's order
    validation: str = ""
    minimum: str = ""
    maximum: str = ""
    note: str = ""
    branching: str = ""
    section: str = ""
    identifier: bool = False
    required: bool = False

    def checkbox_column(self, code: str) -> str:
        """REDCap's export column of one checkbox: `variable___code`, code in lower case."""
        return f"{self.variable}___{code.lower()}"


def _number(value: float) -> str:
    return str(canonical_number(value))


def _note(e: Element) -> str:
    if e.type == "partial_date":
        return "YYYY, YYYY-MM or YYYY-MM-DD (the year alone is enough)"
    if e.is_open_code:
        listed = f"In scope: {', '.join(e.codes)} " if e.codes else ""
        return f"{listed}{e.codes_note}".strip()
    if e.type in ("integer", "decimal"):
        b = bounds(e.name)
        parts = [unit_name(e.unit)] if e.unit else []
        if b.exclusive_minimum and b.minimum is not None:
            parts.append(f"greater than {_number(b.minimum)}")
        return ", ".join(parts)
    return ""


def _branching(name: str) -> str:
    if name not in SHOW_WHEN:
        return ""
    on, answers = SHOW_WHEN[name]
    return " or ".join(f"[{variable_of(on)}] = '{a}'" for a in answers)


def _field(e: Element, form: str, section: str) -> RedcapField:
    choices = tuple((c, code_label(c)) for c in e.codes)
    kind = "checkbox" if e.type == "code_list" else "radio"
    if e.type not in ("code", "code_list") or e.is_open_code:
        kind, choices = "text", ()
    b = bounds(e.name) if e.type in ("integer", "decimal") else None
    return RedcapField(
        variable=variable_of(e.name),
        element=e,
        form=form,
        field_type=kind,
        label=element_label(e),
        choices=choices,
        validation=_VALIDATION.get(e.type, ""),
        minimum=_number(b.minimum) if b and b.minimum is not None else "",
        maximum=_number(b.maximum) if b and b.maximum is not None else "",
        note=_note(e),
        branching=_branching(e.name),
        section=section,
        identifier=e.name == "birth_date",
        required=e.name == "record_id",
    )


@cache
def mds_fields() -> tuple[RedcapField, ...]:
    """The fields of the MDS project: grouped into forms (REDCap wants a form's fields
    together), dictionary order within a form; a section header opens each form's extension
    elements."""
    out: list[RedcapField] = []
    for form in FORMS:
        seen_extension = False
        for e in (e for e in elements() if e.group == form):
            section = ""
            if e.level == "extension" and not seen_extension:
                section, seen_extension = "Extension elements (optional)", True
            out.append(_field(e, form, section))
    return tuple(out)


def _row(f: RedcapField) -> list[str]:
    choices = " | ".join(f"{code}, {label}" for code, label in f.choices)
    return [
        f.variable, f.form, f.section, f.field_type, f.label, choices, f.note, f.validation,
        f.minimum, f.maximum, "y" if f.identifier else "", f.branching,
        "y" if f.required else "", "", "", "", "", f"MDS element {f.element.name}",
    ]  # fmt: skip


def write_redcap_dictionary(out: IO[str], fields: Iterable[RedcapField] | None = None) -> int:
    """Write a REDCap data dictionary CSV; returns the number of fields."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for f in mds_fields() if fields is None else fields:
        writer.writerow(_row(f))
        count += 1
    return count


def _choices(text: str) -> tuple[tuple[str, str], ...]:
    out = []
    for part in text.split("|"):
        code, _, label = part.partition(",")
        if code.strip():
            out.append((code.strip(), label.strip()))
    return tuple(out)


def read_redcap_dictionary(f: IO[str]) -> tuple[RedcapField, ...]:
    """A centre's REDCap data dictionary, as far as it holds MDS elements.

    A field is an MDS element when its annotation says `MDS element <name>` or its variable
    name is an element's (or short) name; other fields are the centre's own and are left out.
    Field type, label, choice labels and validation come from the file, so exports of a
    project whose dates are D-M-Y or whose labels were reworded still read.
    """
    rows = list(csv.reader(f))
    if not rows or rows[0][0].strip().removeprefix("\ufeff") != COLUMNS[0]:
        raise SourceError(f"not a REDCap data dictionary: the first column must be {COLUMNS[0]}")
    names = {e.name for e in elements()}
    ours = {f.element.name: f for f in mds_fields()}
    out = []
    for row in rows[1:]:
        cells = [*row, *[""] * (len(COLUMNS) - len(row))]
        variable, form, _, kind, label, choices, note, validation = cells[:8]
        m = _ANNOTATION.search(cells[17])
        name = m[1] if m and m[1] in names else element_of(variable.strip())
        if name not in names:
            continue
        out.append(
            replace(
                ours[name],
                element=element(name),
                variable=variable.strip(),
                form=form.strip(),
                field_type=kind.strip(),
                label=label.strip(),
                choices=_choices(choices),
                note=note.strip(),
                validation=validation.strip(),
            )
        )
    if not any(f.element.name == "record_id" for f in out):
        raise SourceError("the REDCap data dictionary has no record_id field")
    return tuple(out)
