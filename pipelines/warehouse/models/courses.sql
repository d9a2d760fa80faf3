-- courses: the analysts' view (spec §6) over mart_courses.
-- courses.yml beside it documents every column: a column added here is added there.
select
    course_id,
    client_id,
    cohort,
    sessions_completed,
    first_session_at,
    last_session_at,
    status,
    contraindicated,
    first_session_date,
    last_session_date,
    as_of,
    age_at_start,
    elderly,
    contraindications,
    last_therapist_id,
    client_count
from mart_courses
