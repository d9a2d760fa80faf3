-- mart_therapist_activity: one row per therapist with sessions (spec §6 sessions view), for
-- the dashboard's therapists page: completed sessions and distinct courses.
-- No parameters. Small (one row per therapist), so the page never scans every session.
with per_therapist as (
    select
        therapist_id,
        count(*) filter (where status = 'completed') as sessions,
        count(distinct course_id) as courses
    from mart_sessions
    group by therapist_id
),

final as (
    select therapist_id, sessions, courses
    from per_therapist
    order by therapist_id
)

select * from final
