-- mart_course_sessions: one row per session that belongs to a course (mart_sessions rows with
-- a course_id, i.e. completed sessions), with its pre and post scores side by side
-- (pre_<metric>, post_<metric>; NULL when the score row or the value is missing).
-- No parameters.
--
-- Stored in course order (course_id, session_number): a course's sessions are one run of
-- rows, so a lookup by course_id reads a single row group (zone maps). Read by
-- mart_course_progress and by the dashboard (a client's current course, cohort trajectories).
with course_sessions as (
    select
        session_id,
        client_id,
        therapist_id,
        course_id,
        session_number,
        started_at,
        session_date,
        discomfort_reported,
        spine_pressure,
        notes
    from mart_sessions
    where course_id is not null
),

scores as materialized (
    -- the current score rows, computed once (stg_scores ranks every version)
    select session_id, timing, pain, muscle_tone, mobility
    from stg_scores
    where timing in ('pre', 'post')
),

pre as (
    select session_id, pain, muscle_tone, mobility from scores where timing = 'pre'
),

post as (
    select session_id, pain, muscle_tone, mobility from scores where timing = 'post'
),

final as (
    select
        cs.*,
        pre.pain as pre_pain,
        post.pain as post_pain,
        pre.muscle_tone as pre_muscle_tone,
        post.muscle_tone as post_muscle_tone,
        pre.mobility as pre_mobility,
        post.mobility as post_mobility
    from course_sessions cs
    left join pre on pre.session_id = cs.session_id
    left join post on post.session_id = cs.session_id
    order by cs.course_id, cs.session_number
)

select * from final
