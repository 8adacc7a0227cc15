"""The stored GraphQL documents the REST routes run, one per GraphQL operation they need. Their selections come
from the shapes in :mod:`graphql_app.rest.mapping`, so each asks for exactly what its route answers."""

from __future__ import annotations

from graphql_app.rest.mapping import EXPLANATION, FEEDBACK, JOB_MATCH, MATCH, MATCH_RESULT, OUTCOME, STATS

# --- the grant API ------------------------------------------------------------------------------------------------

GRANT_MATCHES = f"""
query RestGrantMatches($companyId: ID, $status: GrantMatchStatus, $minScore: Float, $first: Int!, $after: String) {{
  grantMatches(companyId: $companyId, status: $status, minScore: $minScore, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {MATCH.selection} }} }}
  }}
}}"""

#: Walks a list to the cursor a numbered page starts after (the GraphQL lists are cursor-paginated).
GRANT_MATCHES_SKIP = """
query RestGrantMatchesSkip($companyId: ID, $status: GrantMatchStatus, $minScore: Float, $first: Int!, $after: String) {
  grantMatches(companyId: $companyId, status: $status, minScore: $minScore, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
  }
}"""

CALCULATE = """
mutation RestCalculateGrantMatches($companyId: ID!) {
  calculateGrantMatches(companyId: $companyId) { id status }
}"""

COMPUTATION = """
query RestComputation($id: ID!) {
  computation(id: $id) { id kind status resultCount error subjectId }
}"""

STATS_QUERY = f"""
query RestGrantMatchStats($companyId: ID) {{
  grantMatchStats(companyId: $companyId) {{ {STATS.selection} }}
}}"""

GRANT_MATCH = f"""
query RestGrantMatch($id: ID!) {{
  grantMatch(id: $id) {{ {MATCH.selection} }}
}}"""

APPLY_ACTION = f"""
mutation RestApplyGrantMatchAction($matchId: ID!, $action: GrantMatchAction!) {{
  applyGrantMatchAction(matchId: $matchId, action: $action) {{ {MATCH.selection} }}
}}"""

LIVE_MATCHES = f"""
query RestLiveGrantMatches($companyId: ID!, $minScore: Float, $first: Int!, $after: String) {{
  liveGrantMatches(companyId: $companyId, minScore: $minScore, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {MATCH_RESULT.selection} }} }}
  }}
}}"""

LIVE_MATCHES_SKIP = """
query RestLiveGrantMatchesSkip($companyId: ID!, $minScore: Float, $first: Int!, $after: String) {
  liveGrantMatches(companyId: $companyId, minScore: $minScore, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
  }
}"""

REFRESH = f"""
mutation RestRefreshGrantMatches($companyId: ID!, $saveResults: Boolean!, $limit: Int!) {{
  refreshGrantMatches(companyId: $companyId, saveResults: $saveResults, limit: $limit) {{
    companyId saved candidateCount matches {{ {MATCH_RESULT.selection} }}
  }}
}}"""

MARK_VIEWED = """
mutation RestMarkGrantMatchViewed($companyId: ID!, $grantId: ID!) {
  markGrantMatchViewed(companyId: $companyId, grantId: $grantId) { id }
}"""

SET_SAVED = f"""
mutation RestSetGrantMatchSaved($companyId: ID!, $grantId: ID!, $saved: Boolean!) {{
  setGrantMatchSaved(companyId: $companyId, grantId: $grantId, saved: $saved) {{ {MATCH.selection} }}
}}"""

SET_DISMISSED = f"""
mutation RestSetGrantMatchDismissed($companyId: ID!, $grantId: ID!, $dismissed: Boolean!) {{
  setGrantMatchDismissed(companyId: $companyId, grantId: $grantId, dismissed: $dismissed) {{ {MATCH.selection} }}
}}"""

# --- the talent API -----------------------------------------------------------------------------------------------

JOB_MATCH_QUERY = f"""
query RestJobMatch($id: ID!) {{
  jobMatch(id: $id) {{ {JOB_MATCH.selection} }}
}}"""

EXPLANATION_QUERY = f"""
query RestMatchExplanation($id: ID!) {{
  jobMatch(id: $id) {{
    id
    explanation {{
      __typename
      ... on MatchExplanation {{ {EXPLANATION.selection} }}
      ... on ExplanationPending {{ computation {{ id status }} }}
    }}
  }}
}}"""

SUBMIT_FEEDBACK = f"""
mutation RestSubmitPlacementFeedback($matchId: ID!, $input: FeedbackInput!) {{
  submitPlacementFeedback(matchId: $matchId, input: $input) {{ {FEEDBACK.selection} }}
}}"""

MATCH_FEEDBACK = f"""
query RestMatchFeedback($matchId: ID!) {{
  matchFeedback(matchId: $matchId) {{ {FEEDBACK.selection} }}
}}"""

RECORD_OUTCOME = f"""
mutation RestRecordPlacementOutcome($matchId: ID!, $input: OutcomeInput!) {{
  recordPlacementOutcome(matchId: $matchId, input: $input) {{ id status outcome {{ {OUTCOME.selection} }} }}
}}"""

UPDATE_STATUS = f"""
mutation RestUpdateJobMatchStatus($matchId: ID!, $status: JobMatchStatus!) {{
  updateJobMatchStatus(matchId: $matchId, status: $status) {{ {JOB_MATCH.selection} }}
}}"""

COMPUTE = """
mutation RestComputeJobMatches($jobId: ID, $memberId: ID) {
  computeJobMatches(jobId: $jobId, memberId: $memberId) { id kind status }
}"""

JOB_MATCHES = f"""
query RestJobMatches($jobId: ID!, $quality: QualityTier, $status: JobMatchStatus, $first: Int!, $after: String) {{
  jobMatches(jobId: $jobId, quality: $quality, status: $status, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {JOB_MATCH.selection} }} }}
  }}
}}"""

MEMBER_MATCHES = f"""
query RestMemberMatches($memberId: ID!, $status: JobMatchStatus, $first: Int!, $after: String) {{
  memberMatches(memberId: $memberId, status: $status, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {JOB_MATCH.selection} }} }}
  }}
}}"""
