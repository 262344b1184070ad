"""The few SQL spellings that differ between PostgreSQL and SQLite, for the check builders.

The DQD writes its checks in SQL Server's dialect and translates them (SqlRender); here each
builder writes portable SQL and asks this module for what is not portable: where a table lives
(schemas on PostgreSQL, one file on SQLite: adapter.omop.schema decides), dates (PostgreSQL has
a date type; SQLite keeps ISO text, docs/adr/0002), date arithmetic, "today", and whether a
value is an integer (SQLite columns take any type; PostgreSQL's cannot hold a non-integer).
"""

from __future__ import annotations

from dataclasses import dataclass

from adapter.omop.schema import Dialect, Part, qualified_name, table

__all__ = ["Sql"]


@dataclass(frozen=True, slots=True)
class Sql:
    """SQL fragments for one dialect. Arguments are SQL expressions, returned ones are too."""

    dialect: Dialect

    @property
    def pg(self) -> bool:
        return self.dialect == "postgresql"

    def table(self, name: str) -> str:
        """A CDM or vocabulary table by its official name, qualified where it lives."""
        return qualified_name(name, table(name, self.dialect).part, self.dialect)

    def adapter_table(self, name: str) -> str:
        part: Part = "adapter"
        return qualified_name(name, part, self.dialect)

    def column(self, table_name: str, field: str) -> str:
        """A column as SQL (quoted where the DDL quotes it: note_nlp."offset")."""
        return table(table_name, self.dialect).column(field).sql

    def date(self, expr: str) -> str:
        """The calendar date of a date or datetime value."""
        return f"CAST({expr} AS date)" if self.pg else f"date({expr})"

    def plus_days(self, expr: str, days: int) -> str:
        """The date `days` after the date of `expr` (negative: before)."""
        if self.pg:
            return f"(CAST({expr} AS date) + {days})"
        return f"date({expr}, '{days:+d} days')"

    def date_literal(self, iso: str) -> str:
        """A constant date, from `YYYY-MM-DD`."""
        return f"DATE '{iso}'" if self.pg else f"'{iso}'"

    def today_plus(self, days: int) -> str:
        return f"(CURRENT_DATE + {days})" if self.pg else f"date('now', '{days:+d} days')"

    def this_year(self) -> str:
        if self.pg:
            return "CAST(EXTRACT(YEAR FROM CURRENT_DATE) AS integer)"
        return "CAST(strftime('%Y', 'now') AS integer)"

    def not_integer(self, expr: str) -> str:
        """True for a non-NULL value that is not a whole number as stored."""
        if self.pg:
            return f"CAST({expr} AS text) !~ '^-?[0-9]+$'"
        return f"typeof({expr}) <> 'integer'"

    def birth_date(self, person: str, *, month: str | None = None, day: str | None = None) -> str:
        """A person's birth date: birth_datetime, else from year/month/day of birth.

        A missing month or day is the 1st (`month`/`day` given: that constant instead, as the
        DQD's plausibleTemporalAfter takes 1 June of the year). An impossible month or day
        counts as missing, so one bad row cannot make the whole check fail with an SQL error.
        """
        m = month or (
            f"CASE WHEN {person}.month_of_birth BETWEEN 1 AND 12 "
            f"THEN {person}.month_of_birth ELSE 1 END"
        )
        d = day or (
            f"CASE WHEN {person}.day_of_birth BETWEEN 1 AND 31 "
            f"THEN {person}.day_of_birth ELSE 1 END"
        )
        year = f"{person}.year_of_birth"
        if self.pg:
            made = f"make_date({year}, {m}, 1) + ({d} - 1)"
        else:
            made = f"date(printf('%04d-%02d-01', {year}, {m}), '+' || ({d} - 1) || ' days')"
        estimate = f"CASE WHEN {year} BETWEEN 1 AND 9999 THEN {made} END"
        return f"COALESCE({self.date(f'{person}.birth_datetime')}, {estimate})"
