"""Members ↔ jobs through the API: compute, read, access, status, interest, explanations, feedback, outcomes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from graphql_app.db.engine import count_statements
from tests.api.factories import wait_for_computation
from tests.api.talent_factories import JOB_MATCHES, compute, create_member, create_organisation_and_job, member_input
from tests.conftest import GraphQLClient, token_for

MATCH_FIELDS = "id status memberInterest qualityTier modelVersion"


async def _scenario(http, as_admin, members: int = 3):
    org, job = await create_organisation_and_job(as_admin)
    people = [
        await create_member(http, f"Member {i}", skills=["python", "c++", "ros"][: i + 1]) for i in range(members)
    ]
    await compute(as_admin, job_id=job["id"])
    return org, job, people


async def test_compute_rank_and_read_by_organisation_and_member(http, as_admin, as_platform_admin):
    _org, job, people = await _scenario(http, as_admin)
    data = (await as_admin.data(JOB_MATCHES, {"j": job["id"]}))["jobMatches"]
    assert data["totalCount"] == 3
    names = [e["node"]["member"]["displayName"] for e in data["edges"]]
    assert names[0] == "Member 2", "the member with every required skill ranks first"
    node = data["edges"][0]["node"]
    assert node["status"] == "PENDING_REVIEW" and node["job"]["title"] == job["title"]
    assert node["organisation"]["name"] == "Acme Robotics"
    assert node["qualityTier"] in {"EXCEPTIONAL", "STRONG", "MODERATE", "DEVELOPING"}

    # Numbers are for platform admins only.
    body = await as_admin.execute(
        "query($id: ID!) { jobMatch(id: $id) { scores { probability } } }", {"id": node["id"]}
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    scores = (
        await as_platform_admin.data(
            "query($id: ID!) { jobMatch(id: $id) { scores { probability authenticity acceptance complementarity weights } } }",
            {"id": node["id"]},
        )
    )["jobMatch"]["scores"]
    assert scores["weights"] == [0.4, 0.35, 0.25]
    expected = 0.4 * scores["authenticity"] + 0.35 * scores["acceptance"] + 0.25 * scores["complementarity"]
    assert abs(scores["probability"] - expected) < 1e-9

    # A member sees only their own matches.
    member, member_client = people[0]
    mine = (
        await member_client.data(
            "query($m: ID!) { memberMatches(memberId: $m) { totalCount edges { node { id member { id } } } } }",
            {"m": member["id"]},
        )
    )["memberMatches"]
    assert mine["totalCount"] == 1 and mine["edges"][0]["node"]["member"]["id"] == member["id"]
    other_member, _ = people[1]
    assert (
        await member_client.error_code(
            "query($m: ID!) { memberMatches(memberId: $m) { totalCount } }", {"m": other_member["id"]}
        )
        == "NOT_FOUND"
    )
    other_match = next(e["node"]["id"] for e in data["edges"] if e["node"]["member"]["id"] == other_member["id"])
    assert (
        await member_client.error_code("query($id: ID!) { jobMatch(id: $id) { id } }", {"id": other_match})
        == "NOT_FOUND"
    )
    # Another organisation sees nothing of it.
    outsider = GraphQLClient(http, token_for("tenant-b", ("ORG_ADMIN",)))
    assert await outsider.error_code(JOB_MATCHES, {"j": job["id"]}) == "NOT_FOUND"
    assert await outsider.error_code("query($id: ID!) { jobMatch(id: $id) { id } }", {"id": node["id"]}) == "NOT_FOUND"
    assert (
        await outsider.error_code(
            "mutation($id: ID!) { updateJobMatchStatus(matchId: $id, status: ORG_INTERESTED) { id } }",
            {"id": node["id"]},
        )
        == "NOT_FOUND"
    )
    assert await outsider.error_code("mutation($j: ID!) { computeJobMatches(jobId: $j) { id } }", {"j": job["id"]}) == (
        "NOT_FOUND"
    )
    # Nested both ways.
    nested = await member_client.data(
        "query($m: ID!) { member(id: $m) { matches { totalCount edges { node { job { title } } } } } }",
        {"m": member["id"]},
    )
    assert nested["member"]["matches"]["totalCount"] == 1


async def test_status_transitions_interest_and_recompute_keep_state(http, as_admin):
    _, job, people = await _scenario(http, as_admin)
    member, member_client = people[0]
    match_id = (
        await member_client.data(
            "query($m: ID!) { memberMatches(memberId: $m) { edges { node { id } } } }", {"m": member["id"]}
        )
    )["memberMatches"]["edges"][0]["node"]["id"]
    move = f"mutation($id: ID!, $s: JobMatchStatus!) {{ updateJobMatchStatus(matchId: $id, status: $s) {{ {MATCH_FIELDS} }} }}"
    body = await as_admin.execute(move, {"id": match_id, "s": "OFFERED"})
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "PENDING_REVIEW cannot move to OFFERED" in body["errors"][0]["message"]
    for status in ("ORG_INTERESTED", "INTERVIEWING"):
        assert (await as_admin.data(move, {"id": match_id, "s": status}))["updateJobMatchStatus"]["status"] == status
    org_user = GraphQLClient(http, token_for("tenant-a", ("ORG_USER",)))
    assert await org_user.error_code(move, {"id": match_id, "s": "OFFERED"}) == "FORBIDDEN"
    interest = "mutation($id: ID!) { setMatchInterest(matchId: $id, interest: INTERESTED) { memberInterest } }"
    assert (await member_client.data(interest, {"id": match_id}))["setMatchInterest"]["memberInterest"] == "INTERESTED"
    assert await as_admin.error_code(interest, {"id": match_id}) == "FORBIDDEN"
    assert await member_client.error_code(move, {"id": match_id, "s": "OFFERED"}) == "FORBIDDEN"

    await compute(as_admin, job_id=job["id"])  # recompute: status and interest stay
    state = (await as_admin.data(f"query($id: ID!) {{ jobMatch(id: $id) {{ {MATCH_FIELDS} }} }}", {"id": match_id}))[
        "jobMatch"
    ]
    assert state["status"] == "INTERVIEWING" and state["memberInterest"] == "INTERESTED"
    await as_admin.data(move, {"id": match_id, "s": "WITHDRAWN"})
    assert await as_admin.error_code(move, {"id": match_id, "s": "ORG_INTERESTED"}) == "CONFLICT"


async def test_compute_for_a_member_and_for_a_pair(http, as_admin):
    _org, job = await create_organisation_and_job(as_admin)
    member, member_client = await create_member(http, "Solo")
    done = await compute(member_client, member_id=member["id"])
    assert done["resultCount"] == 1
    done = await compute(as_admin, job_id=job["id"], member_id=member["id"])
    assert done["resultCount"] == 1
    assert await as_admin.error_code("mutation { computeJobMatches { id } }") == "BAD_USER_INPUT"


async def test_an_organisation_scores_a_member_it_can_see_against_its_own_jobs(http, as_admin):
    _org, job, people = await _scenario(http, as_admin, members=1)
    (member, _member_client) = people[0]
    other_org = GraphQLClient(http, token_for("tenant-b", ("ORG_ADMIN",)))
    _, other_job = await create_organisation_and_job(other_org, title="Other organisation's job")
    # The same token reads the member (it has a match with them) and may score them: against its own jobs only.
    assert (await as_admin.data("query($m: ID!) { member(id: $m) { id } }", {"m": member["id"]}))["member"]
    done = await compute(as_admin, member_id=member["id"])
    assert done["resultCount"] == 1
    member_jobs = await as_admin.data(
        "query($m: ID!) { memberMatches(memberId: $m) { edges { node { job { id } } } } }", {"m": member["id"]}
    )
    assert [e["node"]["job"]["id"] for e in member_jobs["memberMatches"]["edges"]] == [job["id"]]
    # An organisation with no match with the member sees neither the profile nor may it score them.
    query, mutation = (
        "query($m: ID!) { member(id: $m) { id } }",
        "mutation($m: ID!) { computeJobMatches(memberId: $m) { id } }",
    )
    assert await other_org.error_code(query, {"m": member["id"]}) == "NOT_FOUND"
    assert await other_org.error_code(mutation, {"m": member["id"]}) == "NOT_FOUND"
    assert other_job["id"] != job["id"]


async def test_jobs_lists_your_organisations_jobs_first(http, as_admin):
    other_org = GraphQLClient(http, token_for("tenant-b", ("ORG_ADMIN",)))
    await create_organisation_and_job(as_admin, title="Ours")
    await create_organisation_and_job(other_org, title="Theirs")  # created later: newer
    titles = lambda data: [e["node"]["title"] for e in data["jobs"]["edges"]]  # noqa: E731
    assert titles(await as_admin.data("{ jobs { edges { node { title } } } }")) == ["Ours", "Theirs"]
    assert titles(await other_org.data("{ jobs { edges { node { title } } } }")) == ["Theirs", "Ours"]


EXPLANATIONS = """query($j: ID!) { jobMatches(jobId: $j) { edges { node { id explanation {
    __typename
    ... on ExplanationPending { computation { id status kind } }
    ... on MatchExplanation { topStrengths growthAreas confidenceStatement summaryText generatedAt
                              belongingBreakdown { authenticity acceptance complementarity } }
} } } } }"""


def explanations_of(data: dict) -> list[dict]:
    return [edge["node"]["explanation"] for edge in data["jobMatches"]["edges"]]


async def test_explanations_are_written_with_the_scores_and_reading_writes_nothing(http, as_admin):
    _, job, people = await _scenario(http, as_admin, members=1)
    member, member_client = people[0]
    with count_statements() as log:
        ready = explanations_of(await as_admin.data(EXPLANATIONS, {"j": job["id"]}))[0]
    assert all(statement.lstrip().upper().startswith("SELECT") for statement in log.statements), log.statements
    assert ready["__typename"] == "MatchExplanation"
    assert ready["topStrengths"][0] == "Exceptional pressure response"
    assert "Strong collaborative orientation" in ready["topStrengths"]
    assert ready["growthAreas"] == ["Developing strategic thinking under ambiguity"]
    assert ready["confidenceStatement"] == "High confidence based on comprehensive identity data."
    # The member reads the same explanation of their own match.
    mine = await member_client.data(
        "query($m: ID!) { memberMatches(memberId: $m) { edges { node { explanation { __typename } } } } }",
        {"m": member["id"]},
    )
    assert mine["memberMatches"]["edges"][0]["node"]["explanation"]["__typename"] == "MatchExplanation"
    # Recomputing words it again with the new scores.
    await compute(as_admin, job_id=job["id"])
    again = explanations_of(await as_admin.data(EXPLANATIONS, {"j": job["id"]}))[0]
    assert again["__typename"] == "MatchExplanation" and again["generatedAt"] >= ready["generatedAt"]


async def test_matches_stored_without_explanation_are_explained_by_one_computation_per_page(services, http, as_admin):
    _, job, _people = await _scenario(http, as_admin, members=3)
    async with services.db.transaction() as conn:  # as matches stored before explanations came with the scores
        await conn.execute(text("UPDATE job_matches SET explanation = NULL, explanation_generated_at = NULL"))
    with count_statements() as log:
        pending = explanations_of(await as_admin.data(EXPLANATIONS, {"j": job["id"]}))
    inserts = [s for s in log.statements if s.lstrip().upper().startswith("INSERT INTO COMPUTATIONS")]
    assert len(inserts) == 1, log.statements  # one write for the whole page
    assert {e["__typename"] for e in pending} == {"ExplanationPending"}
    computation_ids = {e["computation"]["id"] for e in pending}
    assert len(computation_ids) == 1 and pending[0]["computation"]["kind"] == "MATCH_EXPLANATION"
    # Asked again before it ran: the same computation, no new one.
    again = explanations_of(await as_admin.data(EXPLANATIONS, {"j": job["id"]}))
    assert {
        e.get("computation", {}).get("id") for e in again if e["__typename"] == "ExplanationPending"
    } <= computation_ids
    done = await wait_for_computation(as_admin, computation_ids.pop())
    assert done["status"] == "SUCCEEDED" and done["resultCount"] == 3
    ready = explanations_of(await as_admin.data(EXPLANATIONS, {"j": job["id"]}))
    assert {e["__typename"] for e in ready} == {"MatchExplanation"}


async def test_feedback_only_for_placed_matches_after_the_stage_day_once(http, as_admin, clock):
    _, _job, people = await _scenario(http, as_admin, members=1)
    member, member_client = people[0]
    match_id = (
        await member_client.data(
            "query($m: ID!) { memberMatches(memberId: $m) { edges { node { id } } } }", {"m": member["id"]}
        )
    )["memberMatches"]["edges"][0]["node"]["id"]
    give = "mutation($id: ID!, $i: FeedbackInput!) { submitPlacementFeedback(matchId: $id, input: $i) { stage respondent rating } }"
    day30 = {"stage": "DAY_30", "rating": 4, "comments": "Settling in well."}
    assert await member_client.error_code(give, {"id": match_id, "i": day30}) == "CONFLICT"  # not placed
    move = "mutation($id: ID!, $s: JobMatchStatus!) { updateJobMatchStatus(matchId: $id, status: $s) { status } }"
    for status in ("ORG_INTERESTED", "INTERVIEWING", "OFFERED", "PLACED"):
        await as_admin.data(move, {"id": match_id, "s": status})
    assert await member_client.error_code(give, {"id": match_id, "i": day30}) == "BAD_USER_INPUT"  # day 30 not yet
    clock.set(clock.now() + timedelta(days=31))
    given = (await member_client.data(give, {"id": match_id, "i": day30}))["submitPlacementFeedback"]
    assert given == {"stage": "DAY_30", "respondent": "MEMBER", "rating": 4}
    assert await member_client.error_code(give, {"id": match_id, "i": {**day30, "rating": 1}}) == "CONFLICT"
    org_given = (await as_admin.data(give, {"id": match_id, "i": day30}))["submitPlacementFeedback"]
    assert org_given["respondent"] == "ORGANISATION"
    assert (
        await member_client.error_code(give, {"id": match_id, "i": {"stage": "DAY_90", "rating": 5}})
        == "BAD_USER_INPUT"
    )
    listed = await member_client.data(
        "query($id: ID!) { matchFeedback(matchId: $id) { respondent rating } }", {"id": match_id}
    )
    assert listed["matchFeedback"] == [
        {"respondent": "MEMBER", "rating": 4},
        {"respondent": "ORGANISATION", "rating": 4},
    ]


async def test_outcomes_move_the_weights_towards_what_succeeds_and_change_the_ranking(
    http, as_admin, as_platform_admin
):
    _org, job = await create_organisation_and_job(as_admin)
    # Members who fit the team norms (acceptance) versus members who share values and have the skills.
    fit = [
        await create_member(
            http,
            f"Team fit {i}",
            values=["sports"],
            skills=[],
            traits=[{"trait": "collaborative_orientation", "value": 0.8}, {"trait": "pressure_response", "value": 0.6}],
        )
        for i in range(4)
    ]
    skilled = [
        await create_member(
            http,
            f"Skilled {i}",
            values=["curiosity", "ownership", "kindness"],
            skills=["python", "c++", "ros"],
            traits=[{"trait": "collaborative_orientation", "value": 0.2}, {"trait": "pressure_response", "value": 0.1}],
        )
        for i in range(4)
    ]
    await compute(as_admin, job_id=job["id"])
    edges = (await as_admin.data(JOB_MATCHES, {"j": job["id"], "first": 20}))["jobMatches"]["edges"]
    before = [e["node"]["member"]["displayName"] for e in edges]
    assert before[0].startswith("Skilled"), before
    by_name = {e["node"]["member"]["displayName"]: e["node"]["id"] for e in edges}
    record = "mutation($id: ID!, $o: PlacementOutcomeKind!) { recordPlacementOutcome(matchId: $id, input: {outcome: $o}) { modelVersion } }"
    for (member, _), outcome in zip(fit[:3] + skilled[:3], ["RETAINED"] * 3 + ["LEFT_EARLY"] * 3, strict=True):
        await as_admin.data(record, {"id": by_name[member["displayName"]], "o": outcome})
    scores = (
        await as_platform_admin.data(
            "query($id: ID!) { jobMatch(id: $id) { organisation { belongingWeights modelVersion } } }",
            {"id": by_name["Team fit 0"]},
        )
    )["jobMatch"]["organisation"]
    learned = scores["belongingWeights"]
    assert scores["modelVersion"] == 6
    assert learned[1] > 0.35, f"acceptance weight grew: {learned}"
    assert abs(sum(learned) - 1) < 1e-6
    await compute(as_admin, job_id=job["id"])
    edges = (await as_admin.data(JOB_MATCHES, {"j": job["id"], "first": 20}))["jobMatches"]["edges"]
    after = [e["node"]["member"]["displayName"] for e in edges]
    assert after[0].startswith("Team fit"), after
    assert all(e["node"]["modelVersion"] == 6 for e in edges)
    assert (
        await as_admin.error_code(
            'mutation($id: ID!) { recordPlacementOutcome(matchId: $id, input: {outcome: HIRED, startDate: "2026-05-02", endDate: "2026-05-01"}) { id } }',
            {"id": by_name["Team fit 3"]},
        )
        == "BAD_USER_INPUT"
    )


async def test_job_match_pages_take_a_flat_number_of_statements(http, as_admin, execution_path):
    _, job, _ = await _scenario(http, as_admin, members=6)
    query = """query($j: ID!, $first: Int) { jobMatches(jobId: $j, first: $first) { totalCount edges { node {
        id qualityTier member { displayName } job { title } organisation { name } feedback { rating } outcome { outcome }
    } } } }"""
    counts = {}
    for first in (2, 6):
        with count_statements() as log:
            data = await as_admin.data(query, {"j": job["id"], "first": first})
        assert len(data["jobMatches"]["edges"]) == first
        counts[first] = log.count
    assert counts[2] == counts[6] <= 7, counts
    if execution_path == "compiled":
        assert counts[2] == 1, counts  # the organisation's page: one statement


async def test_member_profile_rules(http, as_admin):
    member, member_client = await create_member(http, "Me")
    assert (
        await member_client.error_code(
            "mutation($i: MemberInput!) { createMember(input: $i) { id } }", {"i": member_input("Again")}
        )
        == "CONFLICT"
    )
    bad = member_input("Bad", traits=[{"trait": "telepathy", "value": 0.5}])
    other = GraphQLClient(http, token_for("members", ("MEMBER",), member_id="00000000-0000-0000-0000-000000000001"))
    assert await other.error_code("mutation($i: MemberInput!) { createMember(input: $i) { id } }", {"i": bad}) == (
        "BAD_USER_INPUT"
    )
    assert await other.error_code("query($m: ID!) { member(id: $m) { id } }", {"m": member["id"]}) == "NOT_FOUND"
    assert (await member_client.data("query($m: ID!) { member(id: $m) { displayName } }", {"m": member["id"]}))[
        "member"
    ]["displayName"] == "Me"
    # Jobs need the organisation first; the organisation exists once per account.
    assert await as_admin.error_code('mutation { createJob(input: {title: "Early"}) { id } }') == "BAD_USER_INPUT"
    create_org = "mutation($i: OrganisationInput!) { createOrganisation(input: $i) { id } }"
    await as_admin.data(create_org, {"i": {"name": "Acme"}})
    assert await as_admin.error_code(create_org, {"i": {"name": "Acme again"}}) == "CONFLICT"
    assert await member_client.error_code(create_org, {"i": {"name": "Mine"}}) == "FORBIDDEN"


async def test_new_members_are_scored_by_the_next_computation(http, as_admin):
    """The per-process member cohort cache notices new members."""
    _, job, _ = await _scenario(http, as_admin, members=2)
    await create_member(http, "Late joiner", skills=["python", "c++", "ros"])
    await compute(as_admin, job_id=job["id"])
    names = [
        e["node"]["member"]["displayName"]
        for e in (await as_admin.data(JOB_MATCHES, {"j": job["id"]}))["jobMatches"]["edges"]
    ]
    assert "Late joiner" in names and len(names) == 3


async def test_every_id_taking_talent_operation_hides_other_tenants_and_members(http, as_admin):
    _, job, people = await _scenario(http, as_admin, members=2)
    (member, member_client), (_other_member, other_client) = people
    match_id = (
        await member_client.data(
            "query($m: ID!) { memberMatches(memberId: $m) { edges { node { id } } } }", {"m": member["id"]}
        )
    )["memberMatches"]["edges"][0]["node"]["id"]
    await as_admin.data(
        "mutation($id: ID!) { updateJob(id: $id, input: {isOpen: false}) { isOpen } }", {"id": job["id"]}
    )
    outsider = GraphQLClient(http, token_for("tenant-b", ("ORG_ADMIN",)))
    cases = [
        (outsider, "query($id: ID!) { job(id: $id) { id } }", {"id": job["id"]}),
        (outsider, 'mutation($id: ID!) { updateJob(id: $id, input: {title: "x"}) { id } }', {"id": job["id"]}),
        (outsider, "query($id: ID!) { matchFeedback(matchId: $id) { id } }", {"id": match_id}),
        (outsider, "query($id: ID!) { member(id: $id) { id } }", {"id": member["id"]}),
        (
            outsider,
            "mutation($id: ID!) { recordPlacementOutcome(matchId: $id, input: {outcome: HIRED}) { id } }",
            {"id": match_id},
        ),
        (
            outsider,
            "mutation($id: ID!) { submitPlacementFeedback(matchId: $id, input: {stage: DAY_30, rating: 3}) { id } }",
            {"id": match_id},
        ),
        (
            other_client,
            "mutation($id: ID!) { setMatchInterest(matchId: $id, interest: INTERESTED) { id } }",
            {"id": match_id},
        ),
        (other_client, "query($id: ID!) { matchFeedback(matchId: $id) { id } }", {"id": match_id}),
        (
            other_client,
            'mutation($id: ID!) { updateMember(id: $id, input: {headline: "x"}) { id } }',
            {"id": member["id"]},
        ),
        (other_client, "mutation($m: ID!) { computeJobMatches(memberId: $m) { id } }", {"m": member["id"]}),
        (other_client, "query($id: ID!) { job(id: $id) { id } }", {"id": job["id"]}),
    ]
    for client, query, variables in cases:
        assert await client.error_code(query, variables) == "NOT_FOUND", query
    # Visible but not allowed: FORBIDDEN.
    assert (
        await member_client.error_code(
            "mutation($id: ID!) { recordPlacementOutcome(matchId: $id, input: {outcome: HIRED}) { id } }",
            {"id": match_id},
        )
        == "FORBIDDEN"
    )
    assert (await as_admin.data("query($id: ID!) { job(id: $id) { isOpen } }", {"id": job["id"]}))["job"][
        "isOpen"
    ] is False


async def test_a_jobs_computation_belongs_to_its_organisation_whoever_started_it(http, as_admin, as_platform_admin):
    _, job = await create_organisation_and_job(as_admin)
    started = await as_platform_admin.data(
        "mutation($j: ID!) { computeJobMatches(jobId: $j) { id } }", {"j": job["id"]}
    )
    computation = started["computeJobMatches"]["id"]
    seen = await as_admin.data("query($id: ID!) { computation(id: $id) { id kind } }", {"id": computation})
    assert seen["computation"]["kind"] == "JOB_MATCHES"
