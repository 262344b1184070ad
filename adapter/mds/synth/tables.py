"""The generator's distributions, as small tables a reader can check against the literature.

Weights are relative (they need not sum to 100). Codes come from terminology/ through
knowledge.py wherever a table exists there (sites, regions, laterality rules, histology classes);
these tables only add how often each one is seen in a pelvis-and-extremity sarcoma registry.
The numbers are plausible orders of magnitude from registry reports, not estimates to cite.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate
from random import Random
from typing import Generic, TypeVar

from adapter.mds.knowledge import sites

__all__ = [
    "BIOPSY",
    "BONE_FRACTION",
    "BONE_HISTOLOGY",
    "BONE_SITES",
    "DISTANT_SITES",
    "ENNEKING_MARGIN",
    "GRADING_SYSTEMS",
    "INSTITUTIONS",
    "LATERALITY",
    "MARGIN_R",
    "NERVE_HISTOLOGY",
    "NODAL_HISTOLOGIES",
    "ROUND_CELL",
    "RT_COURSES",
    "RT_TIMING",
    "SACRAL_LATERALITY",
    "SEX",
    "SPELLED_OUT",
    "STS_HISTOLOGY",
    "STS_SITES",
    "SURGERY_TYPES",
    "SYSTEMIC_TIMING",
    "Profile",
    "Weighted",
    "histology_table",
]

T = TypeVar("T")


class Weighted(Generic[T]):
    """A weighted choice that costs one random() and one bisect, for the hot loop."""

    __slots__ = ("_cum", "_total", "values")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        items = [(v, w) for v, w in pairs if w > 0]
        self.values: tuple[T, ...] = tuple(v for v, _ in items)
        self._cum = tuple(accumulate(w for _, w in items))
        self._total = self._cum[-1]

    def pick(self, rng: Random) -> T:
        return self.values[bisect_right(self._cum, rng.random() * self._total)]


INSTITUTIONS = Weighted(
    [
        (("OUS", "NO"), 8),  # Oslo
        (("IOR", "IT"), 14),  # Bologna
        (("INT", "IT"), 9),  # Milan
        (("LUMC", "NL"), 7),  # Leiden
        (("ROH", "GB"), 9),  # Birmingham
        (("RNOH", "GB"), 8),  # Stanmore
        (("MSH", "CA"), 7),  # Toronto
        (("MGH", "US"), 7),  # Boston
        (("MSKCC", "US"), 9),  # New York
        (("CLB", "FR"), 6),  # Lyon
        (("UKM", "DE"), 6),  # Münster
        (("KS", "SE"), 4),  # Stockholm
        (("NCC", "JP"), 6),  # Tokyo
    ]
)

BONE_FRACTION = 0.30

STS_SITES = Weighted(
    [("C49.2", 60), ("C49.1", 20), ("C49.5", 12), ("C47.2", 3), ("C47.1", 3), ("C47.5", 2)]
)
BONE_SITES = Weighted(
    [
        ("C40.2", 50),
        ("C41.4", 22),
        ("C40.0", 17),
        ("C40.3", 4),
        ("C40.1", 3),
        ("C40.8", 2),
        ("C40.9", 2),
    ]
)

# Laterality by the site's laterality rule (icdo3-sites.tsv); None = not recorded.
LATERALITY: dict[str, Weighted[str | None]] = {
    "paired": Weighted([("right", 49), ("left", 49), ("unknown", 1.5), ("bilateral", 0.2)]),
    "required": Weighted([("right", 40), ("left", 40), ("midline", 12), ("not_paired", 8)]),
    "not_paired": Weighted([("not_paired", 60), (None, 40)]),
}
SACRAL_LATERALITY = Weighted([("midline", 70), ("not_paired", 30)])  # chordoma


@dataclass(frozen=True, slots=True)
class Profile:
    """How one histology presents and is treated: who gets it, how it is graded, what therapy."""

    code: str
    weight: float
    age: tuple[float, float]  # mean and sd of age at diagnosis (years)
    grade: tuple[float, float, float] | None  # weights of grade 1, 2, 3; None: not graded
    rt: float  # P(radiotherapy)
    chemo: float  # P(systemic therapy)
    regimen: str | None
    only: tuple[str, ...] = ()  # the sites it is drawn for; empty: every site of its tissue


def _profiles(rows: Iterable[tuple[object, ...]]) -> tuple[Profile, ...]:
    return tuple(Profile(*row) for row in rows)  # type: ignore[arg-type]


_AI = "doxorubicin+ifosfamide"
# fmt: off
STS_HISTOLOGY = _profiles([
    # code     weight  age(mean, sd)  grade 1/2/3    P(RT) P(chemo) regimen
    ("8802/3", 18,   (64, 13),  (0, 15, 85),   0.75, 0.20, _AI),  # UPS
    ("8811/3", 11,   (66, 12),  (30, 35, 35),  0.70, 0.10, "doxorubicin"),  # myxofibrosarcoma
    ("8852/3", 10,   (45, 13),  (55, 35, 10),  0.80, 0.15, _AI),  # myxoid liposarcoma
    ("8858/3", 4,    (62, 11),  (0, 30, 70),   0.60, 0.20, _AI),  # dedifferentiated LPS
    ("8851/3", 3,    (58, 11),  (100, 0, 0),   0.10, 0.00, None),  # well-differentiated LPS
    ("8854/3", 3,    (62, 12),  (0, 10, 90),   0.75, 0.30, _AI),  # pleomorphic LPS
    ("8890/3", 9,    (60, 13),  (20, 40, 40),  0.65, 0.20, "doxorubicin+dacarbazine"),
    ("9040/3", 9,    (36, 14),  (0, 45, 55),   0.75, 0.45, _AI),  # synovial sarcoma
    ("9540/3", 4,    (42, 16),  (5, 30, 65),   0.65, 0.30, _AI),  # MPNST
    ("8805/3", 4,    (58, 16),  (0, 25, 75),   0.70, 0.25, _AI),
    ("8840/3", 2,    (38, 14),  (100, 0, 0),   0.20, 0.00, None),  # LGFMS
    ("8815/3", 2,    (55, 13),  (40, 40, 20),  0.40, 0.05, "doxorubicin"),  # malignant SFT
    ("8910/3", 1,    (10, 6),   (0, 0, 100),   0.50, 0.95, "VAC"),  # embryonal RMS
    ("8920/3", 2,    (16, 9),   (0, 0, 100),   0.60, 0.95, "VAC"),  # alveolar RMS
    ("8901/3", 1,    (62, 12),  (0, 0, 100),   0.70, 0.30, _AI),
    ("8804/3", 2,    (32, 13),  (0, 40, 60),   0.70, 0.35, _AI),  # epithelioid sarcoma
    ("9581/3", 1,    (27, 9),   (0, 30, 70),   0.40, 0.30, "sunitinib"),
    ("9044/3", 1,    (35, 14),  (0, 30, 70),   0.60, 0.20, _AI),
    ("9231/3", 1,    (55, 12),  (30, 50, 20),  0.50, 0.10, "doxorubicin"),
    ("9120/3", 2,    (65, 14),  (0, 20, 80),   0.60, 0.40, "paclitaxel"),
    ("9364/3", 2,    (22, 10),  (0, 0, 100),   0.60, 0.95, "VDC/IE"),  # extraskeletal Ewing
    ("9180/3", 1,    (60, 12),  (0, 10, 90),   0.60, 0.40, "doxorubicin+cisplatin"),
    ("8810/3", 1,    (50, 15),  (10, 40, 50),  0.60, 0.20, _AI),
    ("9133/3", 0.5,  (45, 15),  (40, 40, 20),  0.30, 0.10, "doxorubicin"),
    ("8714/3", 0.5,  (45, 14),  (0, 40, 60),   0.40, 0.20, "sirolimus"),
    ("9367/3", 0.5,  (30, 12),  (0, 0, 100),   0.50, 0.90, "VDC/IE"),
    ("8825/3", 0.5,  (45, 14),  (70, 30, 0),   0.30, 0.00, None),
])
BONE_HISTOLOGY = _profiles([
    ("9180/3", 28,   (18, 10),  (2, 3, 95),    0.03, 0.92, "MAP"),  # osteosarcoma
    ("9186/3", 3,    (17, 8),   (2, 3, 95),    0.03, 0.92, "MAP"),
    ("9181/3", 3,    (19, 9),   (2, 3, 95),    0.03, 0.92, "MAP"),
    ("9183/3", 1,    (17, 7),   (0, 0, 100),   0.03, 0.92, "MAP"),
    ("9192/3", 2,    (30, 12),  (85, 15, 0),   0.00, 0.10, "MAP"),  # parosteal
    ("9193/3", 1,    (20, 8),   (30, 60, 10),  0.00, 0.50, "MAP"),  # periosteal
    ("9187/3", 1,    (30, 12),  (95, 5, 0),    0.00, 0.00, None),
    ("9220/3", 25,   (52, 14),  (60, 30, 10),  0.03, 0.02, None),  # chondrosarcoma
    ("9243/3", 3,    (60, 12),  (0, 0, 100),   0.10, 0.50, "doxorubicin+cisplatin"),
    ("9240/3", 1,    (28, 12),  (0, 0, 100),   0.30, 0.80, "VDC/IE"),
    ("9242/3", 1,    (40, 12),  (90, 10, 0),   0.00, 0.00, None),
    ("9364/3", 14,   (15, 7),   (0, 0, 100),   0.45, 0.98, "VDC/IE"),  # Ewing sarcoma
    ("8802/3", 3,    (55, 15),  (0, 10, 90),   0.15, 0.60, "MAP"),
    ("9370/3", 12,   (60, 12),  None,          0.50, 0.00, None, ("C41.4",)),  # chordoma
    ("9261/3", 3,    (30, 12),  (90, 10, 0),   0.00, 0.00, None, ("C40.2",)),  # adamantinoma
    ("9250/3", 1,    (40, 14),  (0, 50, 50),   0.20, 0.20, "doxorubicin+cisplatin"),
    ("9120/3", 1,    (55, 15),  (0, 20, 80),   0.40, 0.30, "paclitaxel"),
    ("8890/3", 0.5,  (50, 15),  (10, 30, 60),  0.10, 0.30, "doxorubicin+dacarbazine"),
])
# fmt: on
SPELLED_OUT = {
    "VDC/IE": "vincristine, doxorubicin and cyclophosphamide alternating with ifosfamide and "
    "etoposide (VDC/IE), 14 cycles",
    "MAP": "high-dose methotrexate, doxorubicin and cisplatin (MAP), 2 cycles before and 4 after "
    "surgery",
    _AI: "doxorubicin 75 mg/m2 and ifosfamide 10 g/m2 every 3 weeks, 5 cycles",
    "VAC": "vincristine, actinomycin D and cyclophosphamide (VAC)",
}
"""Regimens as some centres write them out in full: longer than OMOP's 60-character
OBSERVATION.value_as_string, so the generated data exercises that loss (docs/omop-loss.md)."""

NERVE_HISTOLOGY = "9540/3"  # MPNST dominates the peripheral-nerve sites C47.x
# Histologies that spread to regional nodes more often than sarcomas do on the whole.
NODAL_HISTOLOGIES = frozenset(("9040/3", "8804/3", "9044/3", "9120/3", "8910/3", "8920/3"))
ROUND_CELL = frozenset(("9364/3", "8920/3", "9367/3", "9180/3", "9186/3", "9181/3", "9183/3"))


def histology_table(site: str) -> Weighted[Profile]:
    """Histologies for one site: its tissue's list, site-restricted entries, MPNST on nerves."""
    bone = sites()[site].tissue == "bone"
    pairs = []
    for p in BONE_HISTOLOGY if bone else STS_HISTOLOGY:
        if p.only and site not in p.only:
            continue
        weight = p.weight * (40 if site.startswith("C47") and p.code == NERVE_HISTOLOGY else 1)
        pairs.append((p, weight))
    return Weighted(pairs)


SEX: Weighted[str | None] = Weighted(
    [("male", 56), ("female", 42.5), ("unknown", 0.3), ("other", 0.2), (None, 1)]
)

# Sets of distant metastasis sites at diagnosis (the lung dominates).
DISTANT_SITES = Weighted(
    [
        (("lung",), 68),
        (("lung", "bone"), 8),
        (("bone",), 7),
        (("lung", "lymph_node_distant"), 3),
        (("lung", "pleura"), 3),
        (("soft_tissue",), 3),
        (("liver",), 2),
        (("lung", "liver"), 2),
        (("lymph_node_distant",), 1),
        (("brain", "lung"), 1),
        (("peritoneum",), 1),
        (("other",), 1),
    ]
)

# Surgery type by (tissue, region); pelvis allows the hemipelvectomy family.
SURGERY_TYPES: dict[tuple[str, str], Weighted[str]] = {
    ("soft_tissue", "limb"): Weighted(
        [
            ("wide_resection_limb_salvage", 84),
            ("local_excision", 6),
            ("amputation", 5),
            ("quarter", 2),
            ("other", 3),
        ]
    ),
    ("soft_tissue", "pelvis"): Weighted(
        [
            ("wide_resection_limb_salvage", 70),
            ("internal_hemipelvectomy", 8),
            ("hemipelvectomy", 7),
            ("hindquarter", 5),
            ("other", 10),
        ]
    ),
    ("bone", "limb"): Weighted(
        [
            ("wide_resection_limb_salvage", 82),
            ("amputation", 12),
            ("quarter", 2),
            ("local_excision", 2),
            ("other", 2),
        ]
    ),
    ("bone", "pelvis"): Weighted(
        [
            ("internal_hemipelvectomy", 60),
            ("hemipelvectomy", 15),
            ("hindquarter", 10),
            ("other", 10),
            ("wide_resection_limb_salvage", 5),
        ]
    ),
}
MARGIN_R = Weighted([("R0", 80), ("R1", 14), ("R2", 2), ("RX_not_assessable", 4)])
ENNEKING_MARGIN = {"R0": "wide", "R1": "marginal", "R2": "intralesional"}

# Radiotherapy courses by timing: (total dose Gy, fractions), weighted.
RT_COURSES: dict[str, Weighted[tuple[float, int]]] = {
    "neoadjuvant": Weighted([((50.0, 25), 80), ((50.4, 28), 20)]),
    "adjuvant": Weighted([((60.0, 30), 40), ((66.0, 33), 40), ((63.0, 35), 20)]),
    "pre_and_post": Weighted([((66.0, 33), 1)]),
    "intraoperative": Weighted([((12.0, 1), 60), ((15.0, 1), 40)]),
    "definitive_no_surgery": Weighted([((70.0, 35), 40), ((66.0, 33), 30), ((55.8, 31), 30)]),
}
RT_TIMING = {
    "soft_tissue": Weighted(
        [("neoadjuvant", 55), ("adjuvant", 38), ("pre_and_post", 3), ("intraoperative", 4)]
    ),
    "bone": Weighted([("adjuvant", 50), ("neoadjuvant", 30), ("pre_and_post", 20)]),
}
SYSTEMIC_TIMING = {
    "soft_tissue": Weighted([("neoadjuvant", 40), ("adjuvant", 35), ("pre_and_post", 25)]),
    "bone": Weighted([("pre_and_post", 85), ("neoadjuvant", 10), ("adjuvant", 5)]),
}
GRADING_SYSTEMS: dict[str, Weighted[str | None]] = {
    "soft_tissue": Weighted([("FNCLCC", 85), ("WHO_or_other", 4), ("unknown", 2), (None, 9)]),
    "bone": Weighted([("two_tier_low_high", 65), ("WHO_or_other", 20), ("unknown", 3), (None, 12)]),
}
BIOPSY: Weighted[str | None] = Weighted(
    [
        ("core_needle", 60),
        ("incisional", 20),
        ("excisional", 4),
        ("fine_needle", 1),
        ("unknown", 2),
        (None, 13),
    ]
)
