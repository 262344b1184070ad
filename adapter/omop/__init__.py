"""MDS ⇄ OMOP CDM v5.4 (pure): the CDM schema from the official DDL, and later the mappings."""

__all__: list[str] = []
