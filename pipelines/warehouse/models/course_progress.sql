-- course_progress: the analysts' view (spec §6) over mart_course_progress.
-- course_progress.yml beside it documents every column: a column added here is added there.
select
    course_id,
    client_id,
    cohort,
    metric,
    status,
    sessions_completed,
    baseline,
    latest,
    improvement,
    pct_improvement,
    improvement_per_session,
    immediate_effect,
    responder,
    worsened,
    rci,
    reliable_improvement,
    n_values,
    baseline_session_number,
    latest_session_number
from mart_course_progress
