-- sessions: the analysts' view (spec §6) over mart_sessions.
-- sessions.yml beside it documents every column: a column added here is added there.
select
    session_id,
    client_id,
    therapist_id,
    course_id,
    session_number,
    started_at,
    status,
    duration_min,
    warmup_min,
    feet,
    direction,
    techniques,
    spine_pressure,
    discomfort_reported,
    session_date,
    declared_course_id,
    notes
from mart_sessions
