-- scores: the analysts' view (spec §6) over stg_scores.
-- scores.yml beside it documents every column: a column added here is added there.
select
    sc.session_id,
    coalesce(sc.client_id, s.client_id) as client_id,
    sc.timing,
    sc.pain,
    sc.muscle_tone,
    sc.mobility,
    sc.recorded_at,
    s.course_id,
    s.session_number,
    s.status as session_status
from stg_scores sc
left join mart_sessions s on s.session_id = sc.session_id
