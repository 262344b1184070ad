"""Flat MDS formats, reader and writer together: JSON Lines and CSV (REDCap, Excel to come)."""

__all__: list[str] = []
