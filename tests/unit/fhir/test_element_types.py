"""profiles/core/element-types.json is generated (adapter/fhir/element_types.py): no drift."""

from __future__ import annotations

import json

from adapter.fhir.element_types import ELEMENT_TYPES_FILE, element_types, generate
from adapter.fhir.profiles import profiles_dir


def test_the_table_is_what_the_generator_writes() -> None:
    on_disk = json.loads((profiles_dir() / ELEMENT_TYPES_FILE).read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(generate()))


def test_the_table_knows_the_elements_readers_rely_on() -> None:
    types = element_types()
    assert types["Patient"]["managingOrganization"] == ("Reference", False)
    assert types["Observation"]["code"] == ("CodeableConcept", False)
    assert types["CodeableConcept"]["coding"] == ("Coding", True)
    assert types["Patient"]["_birthDate"] == ("Element", False)
    assert types["BundleEntry"]["resource"] == ("Resource", False)
    assert types["Extension"]["valueUnsignedInt"] == ("unsignedInt", False)
