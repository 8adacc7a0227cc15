"""The talent side on the compiled path: job matches (with tiers, levels, the explanation union, feedback and
outcome), jobs, members and organisations — rendered from the same access rules as the resolvers'
(``graphql_app.access``), with each resolver's order, cursors and NOT_FOUND cases."""

from __future__ import annotations

from graphql_app import access, validation
from graphql_app.compiled.plan import FieldPlan
from graphql_app.compiled.render import (
    FieldRenderer,
    all_columns,
    checked,
    column,
    connection,
    float_column,
    offset_connection,
    optional_row_of,
    render_selection,
    row_of,
    timestamp,
    uuid_text,
)
from graphql_app.compiled.sql import (
    MISSING_JSON,
    Fallback,
    SqlWriter,
    iso_timestamp,
    json_object,
    literal,
    match_cursor,
)
from graphql_app.db.models import job_matches, jobs, members, organisations
from graphql_app.matching.belonging import (
    COMPONENT_LEVEL_THRESHOLDS,
    DEFAULT_BELONGING_WEIGHTS,
    LOWEST_TIER,
    THRESHOLD_SLACK,
)
from graphql_app.services.pages import MatchCursor, decode_offset_cursor

# --- small values ------------------------------------------------------------------------------------------------


def _component_level(expr: str) -> str:
    """``component_level``: the first threshold the score reaches (with the same slack), else the lowest."""
    cases = " ".join(
        f"WHEN {expr} >= {threshold - THRESHOLD_SLACK!r}::float8 THEN {literal(level)}"
        for level, threshold in COMPONENT_LEVEL_THRESHOLDS
    )
    return f"to_json(CASE {cases} ELSE {literal(LOWEST_TIER)} END)"


#: How each value field of a pair object is read from its JSONB entry's value.
_PAIR_VALUE = {
    "weight": lambda value: f"({value})::float8",
    "value": lambda value: f"({value})::float8",
    "mean": lambda value: f"({value}->>'mean')::float8",
    "tolerance": lambda value: f"({value}->>'tolerance')::float8",
}


def _pairs(key_field: str, column_name: str) -> FieldRenderer:
    """A list of objects from a JSONB object's entries — ``{"python": 2}`` as ``[{skill: "python", weight: 2}]``
    — ordered by key as Python's ``sorted(dict.items())`` orders them (code points: the C collation)."""

    def render(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
        parts = []
        for part in field.selection.fields:
            if part.name == "__typename":
                parts.append((part.key, literal(field.selection.type_name)))
            elif part.name == key_field:
                parts.append((part.key, "e.key"))
            else:
                parts.append((part.key, _PAIR_VALUE[part.name]("e.value")))
        return (
            f'coalesce((SELECT json_agg({json_object(parts)} ORDER BY e.key COLLATE "C") '
            f"FROM jsonb_each(coalesce({alias}.{column_name}, '{{}}'::jsonb)) e), '[]'::json)"
        )

    return render


_DEFAULT_WEIGHTS = "'[" + ", ".join(repr(w) for w in DEFAULT_BELONGING_WEIGHTS) + "]'::jsonb"


# --- Organisation, Job, Member -----------------------------------------------------------------------------------


def _organisation_weights(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return f"coalesce({alias}.belonging_weights, {_DEFAULT_WEIGHTS})::json"


ORGANISATION_FIELDS: dict[str, FieldRenderer] = {
    "id": uuid_text,
    "tenantId": column("tenant_id"),
    "name": column("name"),
    "values": column('"values"'),
    "cultureStatement": column("culture_statement"),
    "teamTraitNorms": _pairs("trait", "team_trait_norms"),
    "teamSkills": column("team_skills"),
    "modelVersion": column("model_version"),
    "createdAt": timestamp("created_at"),
    "updatedAt": timestamp("updated_at"),
    "belongingWeights": _organisation_weights,
}


def _organisation_of(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return row_of("organisations", "o", lambda o: f"{o}.id = {alias}.organisation_id", field, writer)


def _job_matches_of(parent_column: str):
    def render(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
        return job_match_connection(field, writer, lambda m: f"{m}.{parent_column} = {alias}.id")

    return render


JOB_FIELDS: dict[str, FieldRenderer] = {
    "id": uuid_text,
    "title": column("title"),
    "description": column("description"),
    "requiredSkills": _pairs("skill", "required_skills"),
    "desiredTraits": _pairs("trait", "desired_traits"),
    "isOpen": column("is_open"),
    "createdAt": timestamp("created_at"),
    "updatedAt": timestamp("updated_at"),
    "organisation": _organisation_of,
    "matches": _job_matches_of("job_id"),
}

MEMBER_FIELDS: dict[str, FieldRenderer] = {
    "id": uuid_text,
    "displayName": column("display_name"),
    "headline": column("headline"),
    "bio": column("bio"),
    "skills": column("skills"),
    "values": column('"values"'),
    "traits": _pairs("trait", "traits"),
    "profileCompleteness": float_column("profile_completeness"),
    "createdAt": timestamp("created_at"),
    "updatedAt": timestamp("updated_at"),
    "matches": _job_matches_of("member_id"),
}


# --- JobMatch and what hangs off it --------------------------------------------------------------------------------


def _levels(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return _levels_of(field, lambda component: f"{alias}.{component}")


def _levels_of(field: FieldPlan, score_of) -> str:
    pairs = []
    for part in field.selection.fields:
        if part.name == "__typename":
            pairs.append((part.key, literal(field.selection.type_name)))
        else:
            pairs.append((part.key, _component_level(score_of(part.name))))
    return json_object(pairs)


_SCORES = {
    "probability": lambda m: f"{m}.belonging_probability",
    "authenticity": lambda m: f"{m}.authenticity",
    "acceptance": lambda m: f"{m}.acceptance",
    "complementarity": lambda m: f"{m}.complementarity",
    "weights": lambda m: f"({m}.belonging_weights)::json",
}


def _scores(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    pairs = []
    for part in field.selection.fields:
        if part.name == "__typename":
            pairs.append((part.key, literal(field.selection.type_name)))
        else:
            pairs.append((part.key, _SCORES[part.name](alias)))
    return json_object(pairs)


def _member_of(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return row_of("members", "mb", lambda mb: f"{mb}.id = {alias}.member_id", field, writer)


def _job_of(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return row_of("jobs", "j", lambda j: f"{j}.id = {alias}.job_id", field, writer)


FEEDBACK_FIELDS: dict[str, FieldRenderer] = {
    "id": uuid_text,
    "stage": column("stage"),
    "respondent": column("respondent"),
    "rating": column("rating"),
    "comments": column("comments"),
    "submittedAt": timestamp("created_at"),
}

OUTCOME_FIELDS: dict[str, FieldRenderer] = {
    "outcome": column("outcome"),
    "startDate": lambda field, alias, writer: f"to_json({alias}.start_date)",
    "endDate": lambda field, alias, writer: f"to_json({alias}.end_date)",
    "notes": column("notes"),
    "recordedAt": timestamp("updated_at"),
}


def _feedback(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    f = writer.alias("f")
    item = render_selection(field.selection, f, writer)
    return (
        f"coalesce((SELECT json_agg({item} ORDER BY {f}.created_at, {f}.id) FROM placement_feedback {f} "
        f"WHERE {f}.match_id = {alias}.id), '[]'::json)"
    )


def _outcome(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return optional_row_of("placement_outcomes", "oc", lambda o: f"{o}.match_id = {alias}.id", field, writer)


_EXPLANATION_JSON = {
    "topStrengths": lambda m: f"({m}.explanation->'topStrengths')::json",
    "growthAreas": lambda m: f"({m}.explanation->'growthAreas')::json",
    "confidenceStatement": lambda m: f"({m}.explanation->'confidenceStatement')::json",
    "summaryText": lambda m: f"({m}.explanation->'summaryText')::json",
    "generatedAt": lambda m: iso_timestamp(f"{m}.explanation_generated_at"),
}


def _explanation(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    """The union: the stored explanation; a match stored without one (before explanations came with the scores)
    is left to the resolvers, which schedule its computation."""
    selection = field.variants["MatchExplanation"]
    pairs = []
    for part in selection.fields:
        if part.name == "__typename":
            pairs.append((part.key, literal("MatchExplanation")))
        elif part.name == "belongingBreakdown":
            breakdown = f"{alias}.explanation->'belongingBreakdown'"
            levels = [
                (p.key, f"({breakdown}->'{p.name}')::json") for p in part.selection.fields if p.name != "__typename"
            ]
            levels += [
                (p.key, literal(part.selection.type_name)) for p in part.selection.fields if p.name == "__typename"
            ]
            order = {p.key: i for i, p in enumerate(part.selection.fields)}
            pairs.append((part.key, json_object(sorted(levels, key=lambda kv: order[kv[0]]))))
        else:
            pairs.append((part.key, _EXPLANATION_JSON[part.name](alias)))
    return f"CASE WHEN {alias}.explanation IS NOT NULL THEN {json_object(pairs)} ELSE {MISSING_JSON} END"


JOB_MATCH_FIELDS: dict[str, FieldRenderer] = {
    "id": uuid_text,
    "createdAt": timestamp("created_at"),
    "updatedAt": timestamp("updated_at"),
    "qualityTier": column("quality_tier"),
    "belongingLevels": _levels,
    "status": column("status"),
    "memberInterest": column("member_interest"),
    "modelVersion": column("model_version"),
    "scores": _scores,
    "member": _member_of,
    "job": _job_of,
    "organisation": _organisation_of,
    "explanation": _explanation,
    "feedback": _feedback,
    "outcome": _outcome,
}


# --- job match connections ---------------------------------------------------------------------------------------


def bind_job_match_connection(args: dict) -> tuple[dict, tuple]:
    """``first``, ``after``, ``quality`` and ``status`` as the job-match lists validate them."""
    first = checked(lambda: validation.page_size(args["first"]))
    after = checked(lambda: MatchCursor.decode(args["after"])) if args["after"] else None
    values = {
        "first": first,
        "after_score": after.score if after else None,
        "after_id": after.id if after else None,
        "quality": args.get("quality"),
        "status": args.get("status"),
    }
    return values, (values["quality"] is not None, values["status"] is not None, after is not None)


def job_match_connection(field: FieldPlan, writer: SqlWriter, parent) -> str:
    """A ``JobMatchConnection`` as ``fetch_job_match_pages`` pages it: the matches the viewer may see of one
    parent, ``(belonging probability DESC, id)`` keyset order, the filtered total counted before the cursor."""
    bound = writer.bound(field)

    def filtered(m: str) -> str:
        rules = access.job_match_list(job_matches.alias(m), writer.principal, bound["quality"], bound["status"])
        conditions = [writer.clause(rule, field) for rule in rules]
        conditions.append(parent(m))
        return f"job_matches {m} WHERE " + " AND ".join(conditions)

    def keyset(m: str) -> str:
        score, ident = writer.param(field, "after_score", "float8"), writer.param(field, "after_id", "uuid")
        return f"({m}.belonging_probability < {score} OR ({m}.belonging_probability = {score} AND {m}.id > {ident}))"

    return connection(
        field,
        writer,
        filtered=filtered,
        columns=all_columns(job_matches),
        order=lambda m: writer.order(access.job_match_order(job_matches.alias(m))),
        cursor=lambda a: match_cursor(a, "belonging_probability"),
        after=keyset if bound["after_id"] is not None else None,
    )


def bind_job_matches(args: dict) -> tuple[dict, tuple]:
    values, shape = bind_job_match_connection(args)
    values["job_id"] = checked(lambda: validation.parse_uuid(args["jobId"], "jobId"))
    return values, shape


def _query_job_matches(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    job = writer.param(field, "job_id", "uuid")
    page = job_match_connection(field, writer, lambda m: f"{m}.job_id = {job}")
    j = writer.alias("j")
    # The resolver answers NOT_FOUND for a job whose matches the viewer's organisation does not manage.
    managed = writer.clause(access.organisation_jobs(jobs.alias(j), writer.principal))
    exists = f"EXISTS (SELECT 1 FROM jobs {j} WHERE {j}.id = {job} AND {managed})"
    return f"CASE WHEN {exists} THEN {page} ELSE {MISSING_JSON} END"


def bind_member_matches(args: dict) -> tuple[dict, tuple]:
    values, shape = bind_job_match_connection({**args, "quality": None})
    values["member_id"] = checked(lambda: validation.parse_uuid(args["memberId"], "memberId"))
    return values, shape


def _query_member_matches(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    if not access.may_list_member_matches(writer.principal, writer.bound(field)["member_id"]):
        raise Fallback  # the resolver answers NOT_FOUND
    member = writer.param(field, "member_id", "uuid")
    return job_match_connection(field, writer, lambda m: f"{m}.member_id = {member}")


# --- Query ---------------------------------------------------------------------------------------------------------


def bind_id(args: dict) -> tuple[dict, tuple]:
    return {"id": checked(lambda: validation.parse_uuid(args["id"]))}, ()


def _query_job_match(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    match = writer.param(field, "id", "uuid")

    def condition(m: str) -> str:
        return (
            f"{m}.id = {match} AND {writer.clause(access.visible_job_matches(job_matches.alias(m), writer.principal))}"
        )

    return row_of("job_matches", "m", condition, field, writer)


def _query_job(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    job = writer.param(field, "id", "uuid")

    def condition(j: str) -> str:
        return f"{j}.id = {job} AND {writer.clause(access.viewable_job(jobs.alias(j), writer.principal))}"

    return row_of("jobs", "j", condition, field, writer)


def _query_member(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    member = writer.param(field, "id", "uuid")

    def condition(mb: str) -> str:
        return f"{mb}.id = {member} AND {writer.clause(access.visible_members(members.alias(mb), writer.principal))}"

    return row_of("members", "mb", condition, field, writer)


def _query_organisation(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    def condition(o: str) -> str:
        return writer.clause(access.own_organisation(organisations.alias(o), writer.principal))

    return row_of("organisations", "o", condition, field, writer)


def bind_jobs(args: dict) -> tuple[dict, tuple]:
    first = checked(lambda: validation.page_size(args["first"]))
    offset = checked(lambda: decode_offset_cursor(args["after"]))
    values = {"first": first, "offset": offset, "include_closed": bool(args["includeClosed"])}
    return values, (values["include_closed"], offset > 0)


def _query_jobs(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    include_closed = writer.bound(field)["include_closed"]

    def where(j: str) -> str:
        return writer.clause(access.visible_jobs(jobs.alias(j), writer.principal, include_closed=include_closed))

    return offset_connection(
        field, writer, jobs, where, lambda j: writer.order(access.jobs_order(jobs.alias(j), writer.principal))
    )


QUERY_FIELDS: dict[str, FieldRenderer] = {
    "jobMatches": _query_job_matches,
    "memberMatches": _query_member_matches,
    "jobMatch": _query_job_match,
    "job": _query_job,
    "jobs": _query_jobs,
    "member": _query_member,
    "organisation": _query_organisation,
}

OBJECT_FIELDS: dict[str, dict[str, FieldRenderer]] = {
    "JobMatch": JOB_MATCH_FIELDS,
    "Job": JOB_FIELDS,
    "Member": MEMBER_FIELDS,
    "Organisation": ORGANISATION_FIELDS,
    "PlacementFeedback": FEEDBACK_FIELDS,
    "PlacementOutcome": OUTCOME_FIELDS,
}

#: Object types rendered whole by their parent field's renderer, with the fields it handles.
INLINE_FIELDS: dict[str, frozenset[str]] = {
    "BelongingLevels": frozenset({"authenticity", "acceptance", "complementarity"}),
    "BelongingScores": frozenset({"probability", "authenticity", "acceptance", "complementarity", "weights"}),
    "RequiredSkill": frozenset({"skill", "weight"}),
    "TraitScore": frozenset({"trait", "value"}),
    "TraitNorm": frozenset({"trait", "mean", "tolerance"}),
    "MatchExplanation": frozenset(
        {"topStrengths", "growthAreas", "belongingBreakdown", "confidenceStatement", "summaryText", "generatedAt"}
    ),
    # Compiled so a document may ask for both members of the union; a match without an explanation (the only
    # case answering ExplanationPending) is handed to the resolvers.
    "ExplanationPending": frozenset({"computation"}),
    "Computation": frozenset(
        {
            "id",
            "kind",
            "status",
            "progress",
            "totalCount",
            "processedCount",
            "resultCount",
            "subjectId",
            "parameters",
            "error",
            "attempts",
            "requestedBy",
            "createdAt",
            "startedAt",
            "finishedAt",
            "updatedAt",
        }
    ),
    "JobMatchConnection": frozenset({"edges", "pageInfo", "totalCount"}),
    "JobMatchEdge": frozenset({"cursor", "node"}),
    "JobConnection": frozenset({"edges", "pageInfo", "totalCount"}),
    "JobEdge": frozenset({"cursor", "node"}),
}

BINDERS = {
    ("Query", "jobMatches"): bind_job_matches,
    ("Query", "memberMatches"): bind_member_matches,
    ("Query", "jobMatch"): bind_id,
    ("Query", "job"): bind_id,
    ("Query", "jobs"): bind_jobs,
    ("Query", "member"): bind_id,
    ("Job", "matches"): bind_job_match_connection,
    ("Member", "matches"): lambda args: bind_job_match_connection({**args, "quality": None}),
}
