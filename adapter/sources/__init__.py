"""Flat MDS formats, reader and writer together: JSON Lines, CSV, REDCap (CSV raw and labels,
API JSON, data dictionary) and the Excel form; formats.py picks one by name or extension."""

__all__: list[str] = []
