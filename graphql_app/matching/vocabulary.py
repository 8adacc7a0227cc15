"""Fixed vocabularies of the grant domain (see docs/matching.md).

Values are validated against these lists on input so that matching compares like with like.
"""

from __future__ import annotations

#: Carbon categories a company works in or a grant funds (lower_snake_case words).
CARBON_CATEGORIES: tuple[str, ...] = (
    "renewable_energy",
    "energy_efficiency",
    "sustainable_mobility",
    "circular_economy",
    "green_buildings",
    "sustainable_agriculture",
    "water_management",
    "carbon_capture",
    "clean_hydrogen",
    "energy_storage",
    "biodiversity",
    "sustainable_forestry",
    "waste_reduction",
    "climate_adaptation",
    "green_finance",
    "sustainable_food",
)

#: Certifications the platform recognises as environmental (used when a grant names none).
RECOGNISED_ENVIRONMENTAL_CERTIFICATIONS: tuple[str, ...] = (
    "ISO_14001",
    "ISO_50001",
    "EMAS",
    "ISO_14064",
    "B_CORP",
    "SBTI",
)

#: Every certification a company may declare or a grant may recognise.
CERTIFICATIONS: tuple[str, ...] = RECOGNISED_ENVIRONMENTAL_CERTIFICATIONS + (
    "ISO_9001",
    "ISO_27001",
    "ISO_45001",
    "CRADLE_TO_CRADLE",
    "EU_ECOLABEL",
    "FSC",
    "LEED",
    "BREEAM",
)

#: The six environmental objectives of the EU taxonomy (Regulation (EU) 2020/852, Art. 9).
TAXONOMY_OBJECTIVES: tuple[str, ...] = (
    "CLIMATE_CHANGE_MITIGATION",
    "CLIMATE_CHANGE_ADAPTATION",
    "WATER_MARINE_RESOURCES",
    "CIRCULAR_ECONOMY",
    "POLLUTION_PREVENTION",
    "BIODIVERSITY_ECOSYSTEMS",
)

#: EU size classes (Recommendation 2003/361): <10, <50, <250 staff, else large.
COMPANY_SIZES: tuple[str, ...] = ("MICRO", "SMALL", "MEDIUM", "LARGE")


def size_for_headcount(staff: int) -> str:
    """The EU size class of a company with ``staff`` employees."""
    if staff < 10:
        return "MICRO"
    if staff < 50:
        return "SMALL"
    if staff < 250:
        return "MEDIUM"
    return "LARGE"
