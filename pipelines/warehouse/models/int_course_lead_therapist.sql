-- int_course_lead_therapist: one row per course: its lead therapist (spec §7.4), the one who
-- gave most of its completed sessions; a tie goes to the tied therapist whose last session
-- in the course is latest, then to the smaller therapist_id.
-- Keyed by course: a load recomputes the courses it touched (incremental.py).
with course_sessions as (
    select course_id, therapist_id, started_at
    from mart_sessions
    where status = 'completed' and course_id is not null
),

per_therapist as (
    select
        course_id,
        therapist_id,
        count(*) as sessions,
        max(started_at) as last_started_at
    from course_sessions
    group by course_id, therapist_id
),

final as (
    select
        course_id,
        therapist_id as lead_therapist_id,
        sessions as lead_sessions
    from per_therapist
    qualify row_number() over (
        partition by course_id order by sessions desc, last_started_at desc, therapist_id
    ) = 1
)

select * from final
order by course_id
