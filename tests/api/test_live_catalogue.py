"""Live scoring reads the grants from the process's copy of the catalogue (embeddings included), never from SQL,
and the copy follows every committed change — and no rolled-back one."""

from __future__ import annotations

import uuid

import numpy as np
from sqlalchemy import Float, case, func, literal, or_, select, text, update

from graphql_app import access
from graphql_app.db.engine import count_statements
from graphql_app.db.models import catalogue_version, companies, grants
from graphql_app.matching.grants import rank_grant_matches, score_grants_for_company
from graphql_app.matching.similarity import pgvector_cosine_similarities, squared_norms
from graphql_app.services.grant_catalogue import catalogue_cache
from graphql_app.services.grant_matching import company_profile, score_catalogue_for_company
from tests.api.factories import create_company, create_grants, deadline_in, grant_input
from tests.conftest import TEST_NOW

LIVE = """query($c: ID!) { liveGrantMatches(companyId: $c, first: 100) {
  totalCount edges { node { score matchReasons grant { title } } } } }"""
UPDATE = "mutation($id: ID!, $input: GrantUpdateInput!) { updateGrant(id: $id, input: $input) { id } }"


async def live_scores(client, company_id: str) -> dict[str, float]:
    data = (await client.data(LIVE, {"c": company_id}))["liveGrantMatches"]
    assert data["totalCount"] == len(data["edges"])
    return {e["node"]["grant"]["title"]: e["node"]["score"] for e in data["edges"]}


def scans_grants(statement: str) -> bool:
    """A statement over the grants other than the page's own grants read by id (``grant { title }``)."""
    reads = "FROM grants" in statement or "JOIN grants" in statement
    return reads and "WHERE grants.id IN" not in statement


async def test_live_scoring_sends_no_statement_over_the_grants_and_follows_changes(as_platform_admin, as_admin):
    created = await create_grants(
        as_platform_admin, [grant_input("Plain"), grant_input("Other"), grant_input("French", countries=["FR"])]
    )
    ids = {g["title"]: g["id"] for g in created}
    company = await create_company(as_admin)  # DE, SMALL
    before = await live_scores(as_admin, company["id"])  # loads this process's copy if it is not current
    assert set(before) == {"Plain", "Other"}

    with count_statements() as log:
        assert await live_scores(as_admin, company["id"]) == before
    # The company with the catalogue version, the peer signals: no scan of the grants, and the page's grant rows
    # (`grant { title }`) were read with the copy's first page, not again.
    assert not any(scans_grants(s) for s in log.statements), log.statements
    assert log.count == 2, log.statements

    async def after_change() -> dict[str, float]:
        with count_statements() as log:
            scores = await live_scores(as_admin, company["id"])
        loads = [s for s in log.statements if scans_grants(s)]
        assert len(loads) == 1 and "vector_send" in loads[0], log.statements  # the copy, reloaded once
        by_id = [s for s in log.statements if "WHERE grants.id IN" in s]
        assert len(by_id) == 1, log.statements  # the page's grant rows, read again with the new copy
        return scores

    await create_grants(as_platform_admin, [grant_input("Created later")])
    assert set(await after_change()) == {"Plain", "Other", "Created later"}

    await as_platform_admin.data(UPDATE, {"id": ids["Plain"], "input": {"isCarbonFocused": True}})
    scores = await after_change()
    assert scores["Plain"] > before["Plain"] and scores["Other"] == before["Other"]

    await as_platform_admin.data(UPDATE, {"id": ids["French"], "input": {"countries": []}})
    assert "French" in await after_change()  # now eligible: pre-filtered in from the copy

    await as_platform_admin.data(UPDATE, {"id": ids["Other"], "input": {"deadline": deadline_in(-1)}})
    assert "Other" not in await after_change()  # closed

    await as_platform_admin.data(UPDATE, {"id": ids["French"], "input": {"title": "French, renamed"}})
    assert set(await after_change()) == {"Plain", "French, renamed", "Created later"}  # no stale grant row
    assert set(await live_scores(as_admin, company["id"])) == {"Plain", "French, renamed", "Created later"}

    description = "Plain: funding for offshore wind farms and marine energy."
    await as_platform_admin.data(UPDATE, {"id": ids["Plain"], "input": {"description": description}})
    assert (await after_change())["Plain"] != scores["Plain"]  # new text, new embedding, new cosine


async def test_the_copy_agrees_with_the_pgvector_pre_filter_and_cosine(services, as_platform_admin, as_admin):
    inputs = [
        grant_input("Solar A"),
        grant_input("Solar A"),  # the same text: the same embedding, so a tie that must stay one
        grant_input("German only", countries=["DE"], sizes=["SMALL", "MEDIUM"]),
        grant_input("Swedish large", countries=["SE", "FI"], sizes=["LARGE"], description="Forestry and timber."),
        grant_input("Rolling", deadline=None, description="Water treatment and circular economy."),
        grant_input("Closed", deadline=deadline_in(-3)),
        grant_input("Today", deadline=TEST_NOW.isoformat()),  # open at exactly its deadline
        grant_input("No embedding"),
    ]
    made_grants = await create_grants(as_platform_admin, inputs)
    solar_a = [g["id"] for g in made_grants if g["title"] == "Solar A"]
    without = next(g["id"] for g in made_grants if g["title"] == "No embedding")
    async with services.db.transaction() as conn:
        await conn.execute(update(grants).where(grants.c.id == without).values(embedding=None))
    made = [
        await create_company(as_admin),
        await create_company(as_admin, name="Nordic Timber AB", country="SE", employees=800),
        await create_company(as_admin, name="Water Works SA", country="FR", employees=3, description="Water reuse."),
    ]
    async with services.db.reader() as conn:
        for company_id in (c["id"] for c in made):
            company = (await conn.execute(select(companies).where(companies.c.id == uuid.UUID(company_id)))).one()
            scored = await score_catalogue_for_company(conn, company, TEST_NOW)
            reference = {row.id: row.cosine for row in await conn.execute(_pgvector_candidates(company))}
            mine = dict(zip(scored.candidates.ids, scored.candidates.cosine_similarity, strict=True))
            assert set(mine) == set(reference)
            for grant_id, cosine in reference.items():  # bit-equal with this server's pgvector
                assert mine[grant_id] == cosine or (np.isnan(cosine) and np.isnan(mine[grant_id])), grant_id
            twins = [mine[uuid.UUID(grant_id)] for grant_id in solar_a if uuid.UUID(grant_id) in mine]
            assert len(twins) == 2 and twins[0] == twins[1]  # bit-equal: the tie stays a tie
            # The ranking with pgvector's similarities is the ranking with the copy's.
            candidates = scored.candidates
            candidates.cosine_similarity = np.array([reference[g] for g in candidates.ids])
            with_reference = score_grants_for_company(company_profile(company), candidates)
            assert with_reference.total.tolist() == scored.scores.total.tolist()
            assert (
                rank_grant_matches(with_reference, limit=None).tolist()
                == rank_grant_matches(scored.scores, limit=None).tolist()
            )


async def test_the_in_memory_cosine_is_pgvectors_to_the_last_bit(services):
    """Random vectors of several dimensions (every path of pgvector's summing loop) against the server's."""
    rng = np.random.default_rng(12)
    async with services.db.reader() as conn:
        for dim in (1, 3, 4, 7, 8, 12, 13, 19, 384):
            vectors = rng.standard_normal((40, dim)).astype(np.float32) * rng.uniform(0.01, 10, (40, 1)).astype(
                np.float32
            )
            query = rng.standard_normal(dim).astype(np.float32)
            mine = pgvector_cosine_similarities(vectors, squared_norms(vectors), np.arange(40), query)
            theirs = await conn.scalar(
                text(
                    "SELECT array_agg(1 - (v::vector <=> CAST(:q AS vector)) ORDER BY i) FROM unnest(CAST(:vs AS text[])) "
                    "WITH ORDINALITY AS t(v, i)"
                ),
                {"q": _vector_text(query), "vs": [_vector_text(v) for v in vectors]},
            )
            assert mine.tolist() == theirs, dim


def _vector_text(vector: np.ndarray) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


def _pgvector_candidates(company):
    """The SQL pre-filter and cosine the live path ran before the copy held the embeddings (the reference)."""
    similarity = (1 - grants.c.embedding.cosine_distance(company.embedding)).cast(Float)
    similarity = case((grants.c.embedding.is_(None), literal(0.0)), else_=similarity)
    return select(grants.c.id, similarity.label("cosine")).where(
        access.open_grants(grants, TEST_NOW),
        or_(func.cardinality(grants.c.countries) == 0, grants.c.countries.any(company.country)),
        or_(func.cardinality(grants.c.sizes) == 0, grants.c.sizes.any(company.size)),
    )


async def test_a_copy_taken_inside_a_rolled_back_transaction_is_not_reused(services, as_platform_admin, as_admin):
    created = {
        g["title"]: g["id"] for g in await create_grants(as_platform_admin, [grant_input("A"), grant_input("B")])
    }
    company = await create_company(as_admin)
    before = await live_scores(as_admin, company["id"])
    version = select(catalogue_version.c.version)

    async with services.db.engine.connect() as conn:
        transaction = await conn.begin()
        await conn.execute(update(grants).where(grants.c.id == created["A"]).values(is_carbon_focused=True))
        row = (await conn.execute(select(companies).where(companies.c.id == uuid.UUID(company["id"])))).one()
        scored = await score_catalogue_for_company(conn, row, TEST_NOW)  # the copy, with the uncommitted change
        assert scored.candidates.is_carbon_focused[scored.candidates.ids.index(uuid.UUID(created["A"]))]
        rolled_back_version = await conn.scalar(version)
        await transaction.rollback()

    # A committed change that bumps the version to the same number as the rolled-back one.
    async with services.db.transaction() as conn:
        await conn.execute(update(grants).where(grants.c.id == created["B"]).values(sizes=["LARGE"]))
        assert await conn.scalar(version) == rolled_back_version
    after = await live_scores(as_admin, company["id"])
    assert after == {"A": before["A"]}  # A without the rolled-back carbon focus; B no longer eligible


async def test_a_companys_kept_dot_products_give_pgvectors_cosine_and_follow_its_edits(
    services, as_platform_admin, as_admin
):
    """The second scoring of a company reuses its dot products (``CatalogueColumns.query_dots``); an edit to its
    text (a new embedding), country or size is scored afresh — each time bit-equal to pgvector."""
    await create_grants(
        as_platform_admin,
        [
            grant_input("Wind", description="Offshore wind farms."),
            grant_input("Swedish", countries=["SE"], description="Forestry."),
            grant_input("Large only", sizes=["LARGE"], description="Steel plants."),
        ],
    )
    company_id = uuid.UUID((await create_company(as_admin))["id"])  # DE, SMALL

    async def scored_against_pgvector() -> tuple[dict, int, int]:
        async with services.db.reader() as conn:
            company = (await conn.execute(select(companies).where(companies.c.id == company_id))).one()
            kept = (await catalogue_cache.columns(conn)).query_dots
            hits, misses = kept.hits, kept.misses
            scored = await score_catalogue_for_company(conn, company, TEST_NOW)
            reference = {row.id: row.cosine for row in await conn.execute(_pgvector_candidates(company))}
        mine = dict(zip(scored.candidates.ids, scored.candidates.cosine_similarity.tolist(), strict=True))
        assert mine == reference  # the same candidates, bit-equal cosines
        return mine, kept.hits - hits, kept.misses - misses

    first, hits, misses = await scored_against_pgvector()
    again, hits_again, misses_again = await scored_against_pgvector()
    assert (hits, misses, hits_again, misses_again) == (0, 1, 1, 0) and again == first

    edits = [
        {"description": "Floating wind turbines and marine energy."},  # re-embedded
        {"country": "SE"},  # other candidates: the Swedish call is in
        {"employees": 900},  # LARGE: the large-only call is in
    ]
    for edit in edits:
        await as_admin.data(
            "mutation($id: ID!, $input: CompanyUpdateInput!) { updateCompany(id: $id, input: $input) { id } }",
            {"id": str(company_id), "input": edit},
        )
        changed, hits, misses = await scored_against_pgvector()
        assert (hits, misses) == (0, 1), edit
        assert changed != first, edit
        first = changed
    assert len(first) == 3  # all three grants are candidates of the large Swedish company
