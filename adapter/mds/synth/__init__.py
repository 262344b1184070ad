"""Seeded synthetic MDS records, clean or with one labelled defect each.

    for record, rule in generate(1000, seed=1, defects=0.1):
        ...  # rule is None for a clean record, else the rule id ("R07") it was made to break

Determinism: record i depends only on (seed, i), drawn from `Random(f"{seed}:{i}")`, so the
first k records are the same whatever n is, and a run streams in constant memory. A defective
record is the clean record i with one mutation drawn from its own `Random(f"{seed}:{i}:defect")`,
so switching defects on changes only the defective records.

Which records are defective: record i is when round(F·(i+1)) > round(F·i) (round half up, with F
as an exact fraction), so every prefix of n records holds exactly round(F·n) defects, at evenly
spread positions (every fifth record for F = 0.2). Exact counts make labels checkable and
benchmarks comparable; the rule each defect breaks is drawn uniformly at random.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from random import Random

from adapter.mds.record import MdsRecord
from adapter.mds.synth.clean import clean_fields
from adapter.mds.synth.defects import DEFECT_RULES, break_one_rule

__all__ = ["DEFECT_RULES", "generate"]


def generate(n: int, seed: int, defects: float = 0.0) -> Iterator[tuple[MdsRecord, str | None]]:
    """Yield n records; the str is the rule id ("R07") the record was made to break, or None."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0.0 <= defects <= 1.0:
        raise ValueError(f"defects must be a fraction in [0, 1], got {defects}")
    share = Fraction(defects).limit_denominator(1_000_000)
    p, q = share.numerator, share.denominator

    def count(k: int) -> int:  # round half up of k·p/q: defects among the first k records
        return (2 * k * p + q) // (2 * q)

    for i in range(n):
        fields = clean_fields(Random(f"{seed}:{i}"), i)
        rule = None
        if count(i + 1) > count(i):
            rule = break_one_rule(fields, Random(f"{seed}:{i}:defect"))
        yield MdsRecord(**fields), rule
