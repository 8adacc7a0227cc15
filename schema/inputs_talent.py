"""Input types of the talent domain. Validated in `graphql_app.services.talent` (BAD_USER_INPUT on failure)."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.enums import FeedbackStage, PlacementOutcomeKind

_UNSET = strawberry.UNSET


@strawberry.input(description="A work-style trait value, 0..1.")
class TraitScoreInput:
    trait: str = strawberry.field(description="One of the documented work-style traits, e.g. `pressure_response`.")
    value: float = strawberry.field(description="0..1.")


@strawberry.input(description="The team's norm for a trait.")
class TraitNormInput:
    trait: str = strawberry.field(description="Work-style trait.")
    mean: float = strawberry.field(description="The team's mean, 0..1.")
    tolerance: float = strawberry.field(description="Accepted distance from the mean, (0, 1].")


@strawberry.input(description="A required skill and its weight.")
class RequiredSkillInput:
    skill: str = strawberry.field(description="Skill name.")
    weight: float = strawberry.field(default=1.0, description="Relative importance, (0, 10].")


@strawberry.input(description="Your organisation (one per organisation account).")
class OrganisationInput:
    name: str = strawberry.field(description="Name.")
    values: list[str] = strawberry.field(default_factory=list, description="What it values.")
    culture_statement: str = strawberry.field(default="", description="How it works, in its own words.")
    team_trait_norms: list[TraitNormInput] = strawberry.field(default_factory=list, description="Team norms.")
    team_skills: list[str] = strawberry.field(default_factory=list, description="Skills the team has.")


@strawberry.input(description="Changes to your organisation; omitted fields stay as they are.")
class OrganisationUpdateInput:
    name: str | None = strawberry.field(default=_UNSET, description="Name.")
    values: list[str] | None = strawberry.field(default=_UNSET, description="What it values.")
    culture_statement: str | None = strawberry.field(default=_UNSET, description="Culture statement.")
    team_trait_norms: list[TraitNormInput] | None = strawberry.field(default=_UNSET, description="Team norms.")
    team_skills: list[str] | None = strawberry.field(default=_UNSET, description="Skills the team has.")


@strawberry.input(description="A new job of your organisation.")
class JobInput:
    title: str = strawberry.field(description="Title.")
    description: str = strawberry.field(default="", description="What the job is.")
    required_skills: list[RequiredSkillInput] = strawberry.field(default_factory=list, description="Skills.")
    desired_traits: list[TraitScoreInput] = strawberry.field(default_factory=list, description="Trait targets.")
    is_open: bool = strawberry.field(default=True, description="Match it against members.")


@strawberry.input(description="Changes to a job; omitted fields stay as they are.")
class JobUpdateInput:
    title: str | None = strawberry.field(default=_UNSET, description="Title.")
    description: str | None = strawberry.field(default=_UNSET, description="What the job is.")
    required_skills: list[RequiredSkillInput] | None = strawberry.field(default=_UNSET, description="Skills.")
    desired_traits: list[TraitScoreInput] | None = strawberry.field(default=_UNSET, description="Trait targets.")
    is_open: bool | None = strawberry.field(default=_UNSET, description="Open or closed.")


@strawberry.input(description="A member profile.")
class MemberInput:
    display_name: str = strawberry.field(description="Name shown to organisations.")
    headline: str = strawberry.field(default="", description="One line about you.")
    bio: str = strawberry.field(default="", description="About you (used for culture fit).")
    skills: list[str] = strawberry.field(default_factory=list, description="Skills.")
    values: list[str] = strawberry.field(default_factory=list, description="What you value.")
    traits: list[TraitScoreInput] = strawberry.field(default_factory=list, description="Work-style traits.")
    profile_completeness: float | None = strawberry.field(default=None, description="0..1.")


@strawberry.input(description="Changes to a member profile; omitted fields stay as they are.")
class MemberUpdateInput:
    display_name: str | None = strawberry.field(default=_UNSET, description="Name.")
    headline: str | None = strawberry.field(default=_UNSET, description="Headline.")
    bio: str | None = strawberry.field(default=_UNSET, description="About you.")
    skills: list[str] | None = strawberry.field(default=_UNSET, description="Skills.")
    values: list[str] | None = strawberry.field(default=_UNSET, description="Values.")
    traits: list[TraitScoreInput] | None = strawberry.field(default=_UNSET, description="Traits.")
    profile_completeness: float | None = strawberry.field(default=_UNSET, description="0..1.")


@strawberry.input(description="The outcome of a match.")
class OutcomeInput:
    outcome: PlacementOutcomeKind = strawberry.field(description="What happened.")
    start_date: dt.date | None = strawberry.field(default=None, description="When the placement started.")
    end_date: dt.date | None = strawberry.field(default=None, description="When it ended.")
    notes: str = strawberry.field(default="", description="Notes.")


@strawberry.input(description="Feedback on a placement.")
class FeedbackInput:
    stage: FeedbackStage = strawberry.field(description="DAY_30, DAY_90 or DAY_180 after the start.")
    rating: int = strawberry.field(description="1 (poor) to 5 (excellent).")
    comments: str = strawberry.field(default="", description="Free text.")
