"""mds-adapter: sarcoma Minimal Data Set records to and from FHIR R4 and OMOP CDM v5.4."""
