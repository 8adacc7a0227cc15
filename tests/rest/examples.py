"""The response examples of the two REST documents the adapters serve, verbatim (the grant "Matches API" and the
talent "Matches" API). The contract tests compare every answer's shape with these."""

from __future__ import annotations

#: Grant API, `GET /matches`.
GRANT_MATCH_LIST = {
    "items": [
        {
            "id": "d4e5f6a7-b8c9-0123-def0-456789012345",
            "company_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
            "grant_id": "b1c2d3e4-f5a6-7890-bcde-f12345678901",
            "score": 0.87,
            "rule_score": 0.92,
            "semantic_score": 0.81,
            "recency_score": 0.95,
            "collaborative_score": 0.65,
            "carbon_score": 0.88,
            "match_reasons": [
                "Country match: DE",
                "NACE code overlap: M71",
                "Carbon category match: renewable_energy",
                "ISO_14001 certification recognized",
            ],
            "is_viewed": True,
            "is_saved": False,
            "is_dismissed": False,
            "created_at": "2025-01-15T10:30:00Z",
            "grant": {
                "id": "b1c2d3e4-f5a6-7890-bcde-f12345678901",
                "title": "Green Innovation Fund",
                "deadline": "2025-06-30T23:59:59Z",
                "is_carbon_focused": True,
            },
        }
    ],
    "total": 42,
    "page": 1,
    "page_size": 20,
}

#: Grant API, the MatchResponse (persisted) table: the keys of one persisted match beyond the list example's.
GRANT_MATCH_RESPONSE = {
    **GRANT_MATCH_LIST["items"][0],
    "score_breakdown": {},
    "updated_at": "2025-01-15T10:30:00Z",
}

#: Grant API, `GET /matches/{company_id}` (real-time).
REALTIME_MATCHES = {
    "items": [
        {
            "grant": {
                "id": "b1c2d3e4-f5a6-7890-bcde-f12345678901",
                "title": "Green Innovation Fund",
                "is_carbon_focused": True,
            },
            "score": 0.87,
            "rule_score": 0.92,
            "semantic_score": 0.81,
            "recency_score": 0.95,
            "collaborative_score": 0.65,
            "carbon_score": 0.88,
            "match_reasons": ["Country match: DE", "NACE code overlap: M71"],
        }
    ],
    "total": 15,
    "company_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
}

#: Talent API, `GET /matches/{match_id}`.
TALENT_MATCH = {
    "id": "d4e5f6a7-b8c9-0123-def4-567890abcdef",
    "member_id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "job_id": "b2c3d4e5-f6a7-8901-bcde-f12345678901",
    "org_id": "e1f2a3b4-c5d6-7890-efab-cdef12345678",
    "match_quality": "strong",
    "match_status": "pending_review",
    "computed_at": "2026-03-08T09:00:00Z",
}

#: Talent API, `GET /matches/{match_id}/explanation`.
TALENT_EXPLANATION = {
    "match_id": "d4e5f6a7-b8c9-0123-def4-567890abcdef",
    "top_strengths": ["Exceptional pressure response", "Strong collaborative orientation"],
    "growth_areas": ["Developing strategic thinking under ambiguity"],
    "belonging_breakdown": {"authenticity": "high", "acceptance": "strong", "complementarity": "moderate"},
    "confidence_statement": "High confidence based on comprehensive identity data.",
    "summary_text": "Strong alignment with the team culture, particularly in collaborative problem-solving.",
}
