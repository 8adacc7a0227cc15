"""Grant matching through the API: scores, listing rules, pages, actions, recomputation, stats, live matches."""

from __future__ import annotations

import asyncio

from tests.api.factories import calculate, create_company, create_grants, deadline_in, grant_input

PAGE = """
query($c: ID, $first: Int, $after: String, $status: GrantMatchStatus, $min: Float) {
  grantMatches(companyId: $c, first: $first, after: $after, status: $status, minScore: $min) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id score isViewed isSaved isDismissed matchReasons scoreBreakdown
                          grant { id title } company { id name } } }
  }
}"""


async def page(client, company_id, **variables):
    data = await client.data(PAGE, {"c": company_id, **variables})
    return data["grantMatches"]


async def test_disqualified_and_closed_grants_are_never_listed(as_platform_admin, as_admin):
    await create_grants(
        as_platform_admin,
        [
            grant_input("Open to all"),
            grant_input("German only", countries=["DE"]),
            grant_input("French only", countries=["FR"]),
            grant_input("Large firms only", sizes=["LARGE"]),
            grant_input("Closed call", deadline=deadline_in(-1)),
            grant_input("Rolling call", deadline=None),
        ],
    )
    company = await create_company(as_admin, country="DE", employees=35)  # SMALL
    computation = await calculate(as_admin, company["id"])
    assert computation["status"] == "SUCCEEDED" and computation["progress"] == 1.0
    listed = await page(as_admin, company["id"])
    titles = {e["node"]["grant"]["title"] for e in listed["edges"]}
    assert titles == {"Open to all", "German only", "Rolling call"}
    assert listed["totalCount"] == 3
    reasons = {e["node"]["grant"]["title"]: e["node"]["matchReasons"] for e in listed["edges"]}
    assert "Country match: DE" in reasons["German only"]
    assert "Open to all countries" in reasons["Open to all"]
    assert "Rolling deadline" in reasons["Rolling call"]
    assert "Deadline in 90 days" in reasons["Open to all"]
    assert "Carbon category match: renewable_energy" in reasons["Open to all"]
    assert "ISO_14001 certification recognized" in reasons["Open to all"]


async def test_scores_follow_the_contract(as_platform_admin, as_admin):
    await create_grants(
        as_platform_admin,
        [
            grant_input("Plain", countries=["DE"], naceCodes=["M71"], deadline=deadline_in(10)),
            grant_input("Focused", countries=["DE"], naceCodes=["M71"], deadline=deadline_in(10), isCarbonFocused=True),
        ],
    )
    company = await create_company(as_admin)
    await calculate(as_admin, company["id"])
    nodes = {e["node"]["grant"]["title"]: e["node"] for e in (await page(as_admin, company["id"]))["edges"]}
    plain, focused = nodes["Plain"], nodes["Focused"]
    breakdown = plain["scoreBreakdown"]
    # rule = 0.4·1.0 (listed country) + 0.4·1.0 (M71 covers M71.12) + 0.2·0.8 (sizes unrestricted) = 0.96
    assert abs(breakdown["components"]["rule"]["score"] - 0.96) < 1e-6
    # carbon = 0.5·1 (renewable_energy) + 0.25·1 (ISO_14001 recognised) + 0.25·1 (mitigation) = 1.0
    assert abs(breakdown["components"]["carbon"]["score"] - 1.0) < 1e-6
    assert breakdown["components"]["recency"]["score"] == 1.0  # 10 days left
    assert breakdown["components"]["collaborative"]["score"] == 0.5  # no peers
    weighted = sum(c["score"] * c["weight"] for c in breakdown["components"].values())
    assert abs(plain["score"] - weighted) < 1e-5 and not breakdown["carbonBonusApplied"]
    assert focused["scoreBreakdown"]["carbonBonusApplied"]
    focused_weighted = focused["scoreBreakdown"]["weightedTotal"]
    assert abs(focused["score"] - min(1.0, 1.2 * focused_weighted)) < 1e-5
    assert "NACE code overlap: M71" in plain["matchReasons"]


async def test_cursor_pages_cover_every_match_once(as_platform_admin, as_admin):
    await create_grants(
        as_platform_admin, [grant_input(f"Call {i:02d}", deadline=deadline_in(20 + 7 * i)) for i in range(25)]
    )
    company = await create_company(as_admin)
    await calculate(as_admin, company["id"])
    seen, after, pages = [], None, 0
    while True:
        result = await page(as_admin, company["id"], first=10, after=after)
        assert result["totalCount"] == 25
        assert result["pageInfo"]["hasPreviousPage"] == (after is not None)
        seen += [e["node"] for e in result["edges"]]
        pages += 1
        if not result["pageInfo"]["hasNextPage"]:
            break
        after = result["pageInfo"]["endCursor"]
    assert pages == 3 and len(seen) == 25 and len({n["id"] for n in seen}) == 25
    scores = [n["score"] for n in seen]
    assert scores == sorted(scores, reverse=True)
    past_the_end = await page(as_admin, company["id"], first=10, after=result["edges"][-1]["cursor"])
    assert past_the_end["edges"] == [] and past_the_end["totalCount"] == 25


async def test_actions_filters_and_recomputation_keep_flags(as_platform_admin, as_admin):
    grants = await create_grants(as_platform_admin, [grant_input(f"Call {i}") for i in range(4)])
    company = await create_company(as_admin)
    await calculate(as_admin, company["id"])
    nodes = [e["node"] for e in (await page(as_admin, company["id"]))["edges"]]
    a, b, c = nodes[0], nodes[1], nodes[2]
    act = (
        "mutation($m: ID!, $a: GrantMatchAction!) "
        "{ applyGrantMatchAction(matchId: $m, action: $a) { isSaved isDismissed } }"
    )
    assert (await as_admin.data(act, {"m": a["id"], "a": "SAVE"}))["applyGrantMatchAction"] == {
        "isSaved": True,
        "isDismissed": False,
    }
    assert (await as_admin.data(act, {"m": b["id"], "a": "DISMISS"}))["applyGrantMatchAction"] == {
        "isSaved": False,
        "isDismissed": True,
    }
    assert (await as_admin.data(act, {"m": a["id"], "a": "DISMISS"}))["applyGrantMatchAction"] == {
        "isSaved": False,
        "isDismissed": True,
    }
    assert (await as_admin.data(act, {"m": a["id"], "a": "RESTORE"}))["applyGrantMatchAction"] == {
        "isSaved": False,
        "isDismissed": False,
    }
    pair = {"c": company["id"], "g": c["grant"]["id"]}
    await as_admin.data("mutation($c: ID!, $g: ID!) { setGrantMatchSaved(companyId: $c, grantId: $g) { id } }", pair)
    await as_admin.data("mutation($c: ID!, $g: ID!) { markGrantMatchViewed(companyId: $c, grantId: $g) { id } }", pair)

    saved = await page(as_admin, company["id"], status="SAVED")
    assert [e["node"]["id"] for e in saved["edges"]] == [c["id"]]
    assert saved["edges"][0]["node"]["isViewed"] is True
    dismissed = await page(as_admin, company["id"], status="DISMISSED")
    assert [e["node"]["id"] for e in dismissed["edges"]] == [b["id"]]
    active = await page(as_admin, company["id"], status="ACTIVE")
    assert active["totalCount"] == 3 and b["id"] not in {e["node"]["id"] for e in active["edges"]}
    top = nodes[0]["score"]
    assert (await page(as_admin, company["id"], min=top))["totalCount"] >= 1
    assert all(e["node"]["score"] >= top for e in (await page(as_admin, company["id"], min=top))["edges"])

    # Change a grant so its score changes, recompute twice: scores move, flags stay, no duplicate rows.
    await as_platform_admin.data(
        "mutation($id: ID!) { updateGrant(id: $id, input: {isCarbonFocused: true}) { id } }", {"id": c["grant"]["id"]}
    )
    await calculate(as_admin, company["id"])
    refreshed = await as_admin.data(
        "mutation($c: ID!) { refreshGrantMatches(companyId: $c, limit: 4) "
        "{ saved storedMatches { id isSaved isViewed score } } }",
        {"c": company["id"]},
    )
    stored = {m["id"]: m for m in refreshed["refreshGrantMatches"]["storedMatches"]}
    assert stored[c["id"]]["isSaved"] and stored[c["id"]]["isViewed"] and stored[c["id"]]["score"] > c["score"]
    after = await page(as_admin, company["id"])
    assert after["totalCount"] == len(grants)
    flags = {e["node"]["id"]: (e["node"]["isSaved"], e["node"]["isDismissed"]) for e in after["edges"]}
    assert flags[b["id"]] == (False, True) and flags[c["id"]] == (True, False)


async def test_concurrent_flag_updates_are_not_lost(as_platform_admin, as_admin):
    await create_grants(as_platform_admin, [grant_input("Only call")])
    company = await create_company(as_admin)
    await calculate(as_admin, company["id"])
    grant_id = (await page(as_admin, company["id"]))["edges"][0]["node"]["grant"]["id"]
    pair = {"c": company["id"], "g": grant_id}
    await asyncio.gather(
        as_admin.data("mutation($c: ID!, $g: ID!) { markGrantMatchViewed(companyId: $c, grantId: $g) { id } }", pair),
        as_admin.data("mutation($c: ID!, $g: ID!) { setGrantMatchSaved(companyId: $c, grantId: $g) { id } }", pair),
        as_admin.data("mutation($c: ID!) { refreshGrantMatches(companyId: $c) { saved } }", {"c": company["id"]}),
        calculate(as_admin, company["id"]),
    )
    node = (await page(as_admin, company["id"]))["edges"][0]["node"]
    assert node["isViewed"] and node["isSaved"]
    assert (await page(as_admin, company["id"]))["totalCount"] == 1


async def test_stats_live_matches_and_refresh_without_saving(as_platform_admin, as_admin):
    await create_grants(as_platform_admin, [grant_input(f"Call {i}") for i in range(5)])
    company = await create_company(as_admin)
    live = await as_admin.data(
        "query($c: ID!) { liveGrantMatches(companyId: $c, first: 2) { totalCount pageInfo { hasNextPage endCursor }"
        " edges { node { score matchReasons grant { title } } } } }",
        {"c": company["id"]},
    )
    assert live["liveGrantMatches"]["totalCount"] == 5 and len(live["liveGrantMatches"]["edges"]) == 2
    assert live["liveGrantMatches"]["pageInfo"]["hasNextPage"]
    unsaved = await as_admin.data(
        "mutation($c: ID!) { refreshGrantMatches(companyId: $c, saveResults: false, limit: 3) "
        "{ saved candidateCount matches { score } storedMatches { id } } }",
        {"c": company["id"]},
    )
    assert unsaved["refreshGrantMatches"]["saved"] is False
    assert len(unsaved["refreshGrantMatches"]["matches"]) == 3 and unsaved["refreshGrantMatches"]["storedMatches"] == []
    assert (await page(as_admin, company["id"]))["totalCount"] == 0  # nothing stored by live or unsaved refresh

    await calculate(as_admin, company["id"])
    first = (await page(as_admin, company["id"]))["edges"][0]["node"]
    await as_admin.data(
        "mutation($m: ID!) { applyGrantMatchAction(matchId: $m, action: SAVE) { id } }", {"m": first["id"]}
    )
    stats = (
        await as_admin.data(
            "query($c: ID) { grantMatchStats(companyId: $c) { total saved dismissed viewed averageScore topScore"
            " histogram { lower upper count } } }",
            {"c": company["id"]},
        )
    )["grantMatchStats"]
    assert stats["total"] == 5 and stats["saved"] == 1 and stats["dismissed"] == 0
    assert abs(stats["topScore"] - first["score"]) < 1e-9
    assert len(stats["histogram"]) == 10 and sum(b["count"] for b in stats["histogram"]) == 5
    tenant_wide = (await as_admin.data("{ grantMatchStats { total } }"))["grantMatchStats"]
    assert tenant_wide["total"] == 5


async def test_search_grants_finds_by_meaning(as_platform_admin, as_admin):
    await create_grants(
        as_platform_admin,
        [
            grant_input(
                "Urban Water Reuse",
                description="Treatment and reuse of municipal wastewater and rainwater.",
                carbonCategories=["water_management"],
            ),
            grant_input(
                "Electric Bus Fleets",
                description="Replacing diesel city buses with battery-electric buses.",
                carbonCategories=["sustainable_mobility"],
            ),
            grant_input("Closed Water Call", description="Recycling of wastewater.", deadline=deadline_in(-3)),
        ],
    )
    data = await as_admin.data(
        '{ searchGrants(text: "recycling waste water", first: 5) { similarity grant { title } } }'
    )
    titles = [r["grant"]["title"] for r in data["searchGrants"]]
    assert titles[0] == "Urban Water Reuse" and "Closed Water Call" not in titles


async def test_company_update_drops_matches_it_disqualifies(as_platform_admin, as_admin):
    await create_grants(as_platform_admin, [grant_input("German only", countries=["DE"]), grant_input("Anywhere")])
    company = await create_company(as_admin, country="DE")
    await calculate(as_admin, company["id"])
    assert (await page(as_admin, company["id"]))["totalCount"] == 2
    await as_admin.data(
        'mutation($id: ID!) { updateCompany(id: $id, input: {country: "AT"}) { country } }', {"id": company["id"]}
    )
    titles = [e["node"]["grant"]["title"] for e in (await page(as_admin, company["id"]))["edges"]]
    assert titles == ["Anywhere"]


async def test_collaborative_signal_from_similar_companies(as_platform_admin, as_admin):
    await create_grants(as_platform_admin, [grant_input("Shared favourite"), grant_input("Other call")])
    peers = [await create_company(as_admin, name=f"Solar Peer {i}") for i in range(3)]
    for peer in peers:
        await calculate(as_admin, peer["id"])
        match = next(
            e["node"]
            for e in (await page(as_admin, peer["id"]))["edges"]
            if e["node"]["grant"]["title"] == "Shared favourite"
        )
        await as_admin.data(
            "mutation($m: ID!) { applyGrantMatchAction(matchId: $m, action: SAVE) { id } }", {"m": match["id"]}
        )
    company = await create_company(as_admin, name="Solar Newcomer")
    await calculate(as_admin, company["id"])
    nodes = {e["node"]["grant"]["title"]: e["node"] for e in (await page(as_admin, company["id"]))["edges"]}
    favourite = nodes["Shared favourite"]
    assert favourite["scoreBreakdown"]["components"]["collaborative"]["score"] > 0.5
    assert "Saved by 3 similar companies" in favourite["matchReasons"]
    assert nodes["Other call"]["scoreBreakdown"]["components"]["collaborative"]["score"] == 0.5


async def test_an_empty_after_cursor_means_from_the_start_on_every_list(as_platform_admin, as_admin):
    await create_grants(as_platform_admin, [grant_input("Call A"), grant_input("Call B")])
    company = await create_company(as_admin)
    await calculate(as_admin, company["id"])
    assert (await page(as_admin, company["id"], after=""))["totalCount"] == 2
    assert len((await as_admin.data('{ grants(after: "") { edges { node { id } } } }'))["grants"]["edges"]) == 2
    assert len((await as_admin.data('{ companies(after: "") { edges { node { id } } } }'))["companies"]["edges"]) == 1


async def test_live_scores_follow_grant_edits_without_a_restart(as_platform_admin, as_admin):
    """Scoring reads grant attributes from this process's copy of the catalogue; every edit must reach it."""
    from graphql_app.services.grant_catalogue import catalogue_cache

    created = await create_grants(as_platform_admin, [grant_input("Plain"), grant_input("Other")])
    company = await create_company(as_admin)
    live = "query($c: ID!) { liveGrantMatches(companyId: $c) { edges { node { score grant { title } } } } }"

    async def scores() -> dict[str, float]:
        data = await as_admin.data(live, {"c": company["id"]})
        return {e["node"]["grant"]["title"]: e["node"]["score"] for e in data["liveGrantMatches"]["edges"]}

    before = await scores()
    loads = catalogue_cache.loads
    assert await scores() == before
    assert catalogue_cache.loads == loads  # unchanged catalogue: the copy is reused
    plain = next(g for g in created if g["title"] == "Plain")
    await as_platform_admin.data(
        "mutation($id: ID!) { updateGrant(id: $id, input: {isCarbonFocused: true}) { id } }", {"id": plain["id"]}
    )
    after = await scores()
    assert after["Plain"] > before["Plain"] and after["Other"] == before["Other"]  # the carbon bonus, at once
    assert catalogue_cache.loads == loads + 1
    await create_grants(as_platform_admin, [grant_input("Brand new")])
    assert set(await scores()) == {"Plain", "Other", "Brand new"}
