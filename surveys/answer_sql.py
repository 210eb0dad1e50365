"""The answer batch as one statement: claim the invitations, store the answers, add them to timelines.

It must agree with the Python rules it replaces on the fast path: Survey.scale,
Survey.detractor_at_or_below and answers.check_open (tests compare the two); the scale and detractor
fragments come from surveys.scoring, like every other copy of those rules. The follow-up sweep reads
detractors with the same rule.
"""

from __future__ import annotations

from profiles.models import TimelineEntry, TimelineKind
from surveys import scoring
from surveys.invitation_models import FollowUp, Invitation, InvitationStatus
from surveys.models import Survey, SurveyResponse

# The scale and the follow-up rule over the survey row `s`, generated from surveys.scoring.
_LOW = scoring.scale_low_sql("s")
_HIGH = scoring.scale_high_sql("s")
_DETRACTOR = scoring.detractor_at_or_below_sql("s")

CLAIM_AND_STORE = f"""
WITH input AS (
    SELECT * FROM unnest(%s::text[], %s::int[], %s::text[], %s::bool[], %s::text[])
             AS i(token, score, comment, complete, medium)
),
claimed AS (
    UPDATE {Invitation._meta.db_table} AS inv
       SET status = '{InvitationStatus.ANSWERED}', answered_at = statement_timestamp()
      FROM input, {Survey._meta.db_table} AS s
     WHERE inv.token = input.token
       AND s.id = inv.survey_id
       AND inv.status IN ('{InvitationStatus.SENT}', '{InvitationStatus.PENDING}')
       AND inv.expires_at > statement_timestamp()
       AND input.score BETWEEN {_LOW} AND {_HIGH}
    RETURNING inv.id, inv.survey_id, inv.customer_id, inv.conversation_id, inv.channel_id, inv.agent_id,
              COALESCE(NULLIF(input.medium, ''), inv.medium) AS medium, inv.locale, input.token,
              input.score, input.comment, input.complete, s.kind, input.score <= {_DETRACTOR} AS detractor
),
responses AS (
    INSERT INTO {SurveyResponse._meta.db_table}
        (survey_id, invitation_id, customer_id, conversation_id, channel_id, agent_id, medium, locale,
         score, comment, answers, is_complete, created_at)
    SELECT survey_id, id, customer_id, conversation_id, channel_id, agent_id, medium, locale,
           score, comment, '{{}}'::jsonb, complete, statement_timestamp()
      FROM claimed
    ON CONFLICT (invitation_id) DO NOTHING
    RETURNING id, invitation_id, customer_id, channel_id, conversation_id, score, comment
),
timeline AS (
    INSERT INTO {TimelineEntry._meta.db_table}
        (customer_id, occurred_at, kind, channel_id, conversation_id, survey_response_id, summary, data)
    SELECT r.customer_id, statement_timestamp(), '{TimelineKind.SURVEY_ANSWER}', r.channel_id,
           r.conversation_id, r.id, left(regexp_replace(btrim(r.comment), '\\s+', ' ', 'g'), 300),
           jsonb_build_object('survey_kind', c.kind, 'score', r.score)
      FROM responses r JOIN claimed c ON c.id = r.invitation_id
     WHERE r.customer_id IS NOT NULL
)
SELECT r.id, c.token, c.detractor AND r.customer_id IS NOT NULL, c.score, c.comment
  FROM responses r JOIN claimed c ON c.id = r.invitation_id
"""  # noqa: S608 (table names and statuses come from the models; every value is a parameter)

WHY_REFUSED = f"""
SELECT inv.token, inv.status, inv.expires_at <= statement_timestamp()
  FROM {Invitation._meta.db_table} AS inv JOIN {Survey._meta.db_table} AS s ON s.id = inv.survey_id
 WHERE inv.token = ANY(%s::text[])
"""  # noqa: S608

# Recent detractors whose follow-up was never opened (the queued task was lost), oldest first.
MISSING_FOLLOW_UPS = f"""
SELECT r.id
  FROM {SurveyResponse._meta.db_table} AS r
  JOIN {Survey._meta.db_table} AS s ON s.id = r.survey_id
 WHERE r.created_at >= %s AND r.customer_id IS NOT NULL AND r.invitation_id IS NOT NULL
   AND r.score <= {_DETRACTOR}
   AND NOT EXISTS (SELECT 1 FROM {FollowUp._meta.db_table} AS f WHERE f.response_id = r.id)
 ORDER BY r.id
 LIMIT 1000
"""  # noqa: S608
