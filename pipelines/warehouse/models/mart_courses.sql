-- mart_courses: one row per course (course_id of mart_sessions), spec §4.
-- Parameters: $as_of (DATE: settings.as_of, or the date of the latest completed session;
-- NULL when there is none), $course_min_sessions, $dropout_days, $elderly_age.
--
-- A course is keyed by course_id alone. When a given course_id is used by sessions of
-- more than one client, the course belongs to the client of its first session
-- (started_at, ties by session_id); client_count shows how many clients used it.
with members as (
    select * from mart_sessions where course_id is not null
),

ranked as (
    select
        *,
        row_number() over (
            partition by course_id order by started_at, session_id
        ) as rank_from_first,
        row_number() over (
            partition by course_id order by started_at desc, session_id desc
        ) as rank_from_last
    from members
),

per_course as (
    select
        course_id,
        count(*) as sessions_completed,
        count(distinct client_id) as client_count,
        min(started_at) as first_session_at,
        max(started_at) as last_session_at,
        min(session_date) as first_session_date,
        max(session_date) as last_session_date
    from members
    group by course_id
),

first_sessions as (
    select course_id, client_id
    from ranked
    where rank_from_first = 1
),

last_sessions as (
    select course_id, therapist_id as last_therapist_id
    from ranked
    where rank_from_last = 1
),

as_of as (
    -- computed by derive.py over every session (this file may see only some courses)
    select $as_of::date as as_of
),

courses as (
    select
        p.*,
        f.client_id,
        l.last_therapist_id,
        a.as_of,
        c.cohort,
        c.birth_date,
        c.contraindications
    from per_course p
    join first_sessions f using (course_id)
    join last_sessions l using (course_id)
    cross join as_of a
    left join mart_clients c on c.client_id = f.client_id
),

with_age as (
    select
        *,
        -- whole years: the year difference, minus one before the birthday
        -- (someone born on 29 February turns a year older on 1 March in other years)
        year(first_session_date) - year(birth_date)
        - case
            when month(first_session_date) * 100 + day(first_session_date)
                < month(birth_date) * 100 + day(birth_date) then 1
            else 0
        end as age_at_start
    from courses
),

final as (
    select
        course_id,
        client_id,
        cohort,
        sessions_completed,
        first_session_at,
        last_session_at,
        case
            when sessions_completed >= $course_min_sessions then 'completed'
            when date_diff('day', last_session_date, as_of) <= $dropout_days then 'in_progress'
            else 'dropped_out'
        end as status,
        coalesce(len(contraindications) > 0, false)
        or coalesce(age_at_start >= $elderly_age, false) as contraindicated,
        first_session_date,
        last_session_date,
        as_of,
        age_at_start::integer as age_at_start,
        coalesce(age_at_start >= $elderly_age, false) as elderly,
        coalesce(contraindications, []::varchar[]) as contraindications,
        last_therapist_id,
        client_count::integer as client_count
    from with_age
    -- stored in client order: the dashboard looks courses up by client (zone maps)
    order by client_id, first_session_at, course_id
)

select * from final
