"""GraphQL input types. Values are validated in `graphql_app.validation` (BAD_USER_INPUT on failure)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.enums import Certification, CompanySize, TaxonomyObjective

_UNSET = strawberry.UNSET


@strawberry.input(description="A new company of the viewer's organisation account.")
class CompanyInput:
    name: str = strawberry.field(description="Company name.")
    country: str = strawberry.field(description="Country of registration, ISO 3166-1 alpha-2 (e.g. `DE`).")
    size: CompanySize | None = strawberry.field(
        default=None, description="EU size class; derived from `employees` when omitted."
    )
    employees: int | None = strawberry.field(default=None, description="Staff headcount.")
    nace_codes: list[str] = strawberry.field(
        default_factory=list, description="NACE codes, with or without section letter (`M71.12`, `71.12`)."
    )
    description: str = strawberry.field(default="", description="What the company does (used for matching).")
    carbon_categories: list[str] = strawberry.field(
        default_factory=list,
        description="Carbon categories (see the README's vocabulary, e.g. `renewable_energy`).",
    )
    certifications: list[Certification] = strawberry.field(default_factory=list, description="Certifications held.")
    taxonomy_objectives: list[TaxonomyObjective] = strawberry.field(
        default_factory=list, description="EU taxonomy objectives pursued."
    )


@strawberry.input(description="Changes to a company; omitted fields stay as they are.")
class CompanyUpdateInput:
    name: str | None = strawberry.field(default=_UNSET, description="Company name.")
    country: str | None = strawberry.field(default=_UNSET, description="ISO 3166-1 alpha-2 country.")
    size: CompanySize | None = strawberry.field(default=_UNSET, description="EU size class.")
    employees: int | None = strawberry.field(default=_UNSET, description="Staff headcount.")
    nace_codes: list[str] | None = strawberry.field(default=_UNSET, description="NACE codes (replaces the list).")
    description: str | None = strawberry.field(default=_UNSET, description="What the company does.")
    carbon_categories: list[str] | None = strawberry.field(default=_UNSET, description="Carbon categories.")
    certifications: list[Certification] | None = strawberry.field(default=_UNSET, description="Certifications.")
    taxonomy_objectives: list[TaxonomyObjective] | None = strawberry.field(
        default=_UNSET, description="EU taxonomy objectives."
    )


@strawberry.input(description="A new grant of the catalogue (platform admins).")
class GrantInput:
    title: str = strawberry.field(description="Title of the call.")
    description: str = strawberry.field(default="", description="What the grant funds.")
    funder: str = strawberry.field(default="", description="Programme or agency.")
    countries: list[str] = strawberry.field(default_factory=list, description="Eligible countries; empty = all.")
    nace_codes: list[str] = strawberry.field(default_factory=list, description="Eligible NACE codes; empty = all.")
    sizes: list[CompanySize] = strawberry.field(default_factory=list, description="Eligible sizes; empty = all.")
    carbon_categories: list[str] = strawberry.field(default_factory=list, description="Carbon categories funded.")
    certifications: list[Certification] = strawberry.field(
        default_factory=list, description="Certifications recognised."
    )
    taxonomy_objectives: list[TaxonomyObjective] = strawberry.field(
        default_factory=list, description="EU taxonomy objectives pursued."
    )
    is_carbon_focused: bool = strawberry.field(default=False, description="Gives the 1.2× carbon bonus.")
    deadline: datetime | None = strawberry.field(default=None, description="Closing time with offset; null = rolling.")
    amount_min: float | None = strawberry.field(default=None, description="Smallest award.")
    amount_max: float | None = strawberry.field(default=None, description="Largest award.")
    currency: str = strawberry.field(default="EUR", description="ISO 4217 currency.")
    url: str | None = strawberry.field(default=None, description="Where to read the call.")


@strawberry.input(description="Changes to a grant; omitted fields stay as they are.")
class GrantUpdateInput:
    title: str | None = strawberry.field(default=_UNSET, description="Title of the call.")
    description: str | None = strawberry.field(default=_UNSET, description="What the grant funds.")
    funder: str | None = strawberry.field(default=_UNSET, description="Programme or agency.")
    countries: list[str] | None = strawberry.field(default=_UNSET, description="Eligible countries; empty = all.")
    nace_codes: list[str] | None = strawberry.field(default=_UNSET, description="Eligible NACE codes.")
    sizes: list[CompanySize] | None = strawberry.field(default=_UNSET, description="Eligible sizes.")
    carbon_categories: list[str] | None = strawberry.field(default=_UNSET, description="Carbon categories.")
    certifications: list[Certification] | None = strawberry.field(default=_UNSET, description="Certifications.")
    taxonomy_objectives: list[TaxonomyObjective] | None = strawberry.field(
        default=_UNSET, description="EU taxonomy objectives."
    )
    is_carbon_focused: bool | None = strawberry.field(default=_UNSET, description="Carbon bonus.")
    deadline: datetime | None = strawberry.field(default=_UNSET, description="Closing time; null = rolling.")
    amount_min: float | None = strawberry.field(default=_UNSET, description="Smallest award.")
    amount_max: float | None = strawberry.field(default=_UNSET, description="Largest award.")
    currency: str | None = strawberry.field(default=_UNSET, description="ISO 4217 currency.")
    url: str | None = strawberry.field(default=_UNSET, description="Where to read the call.")


@strawberry.input(description="A company's alert settings; omitted fields stay as they are.")
class CompanyAlertSettingsInput:
    alert_min_score: float | None = strawberry.field(
        default=_UNSET, description="Lowest match score (0..1) that raises an alert; null switches alerts off."
    )
    alert_carbon_focused_only: bool | None = strawberry.field(
        default=_UNSET, description="Alert only on carbon-focused grants."
    )
    alert_min_amount: float | None = strawberry.field(
        default=_UNSET, description="Alert only on grants that may award at least this much; null: any amount."
    )
