-- mart_sessions: every stg_sessions row with its local date, course and number (spec §4).
-- Parameters: $clinic_timezone, $gap_days, $course_max_sessions.
--
-- Course membership: only completed sessions belong to courses. A given course_id wins;
-- a client's completed sessions without one are grouped in time order (started_at, ties by
-- session_id): a new course starts when the dates of two consecutive such sessions are
-- more than $gap_days apart, or when the current course already has $course_max_sessions.
-- Implemented as gap segments (lag + running sum), each segment cut into chunks of
-- $course_max_sessions, which is the same as the rollover rule.
with sessions as (
    select
        *,
        -- the local wall-clock time in the clinic's zone, then its date (never the
        -- machine's or the connection's zone)
        timezone($clinic_timezone, started_at)::date as session_date
    from stg_sessions
),

to_infer as (
    select session_id, client_id, started_at, session_date
    from sessions
    where status = 'completed' and course_id is null
),

gaps as (
    select
        *,
        case
            when date_diff(
                'day',
                lag(session_date) over by_client,
                session_date
            ) > $gap_days then 1
            else 0
        end as starts_segment
    from to_infer
    window by_client as (partition by client_id order by started_at, session_id)
),

segments as (
    select
        *,
        sum(starts_segment) over (
            partition by client_id order by started_at, session_id
            rows between unbounded preceding and current row
        ) as segment_no
    from gaps
),

chunks as (
    select
        *,
        (row_number() over (
            partition by client_id, segment_no order by started_at, session_id
        ) - 1) // $course_max_sessions as chunk_no
    from segments
),

inferred as (
    select
        session_id,
        client_id || '-' || dense_rank() over (
            partition by client_id order by segment_no, chunk_no
        ) as inferred_course_id
    from chunks
),

with_course as (
    -- narrow rows for the numbering window; the wide session rows are joined back below
    select
        s.session_id,
        s.started_at,
        case
            when s.status = 'completed' then coalesce(s.course_id, i.inferred_course_id)
        end as final_course_id
    from sessions s
    left join inferred i using (session_id)
),

numbered as (
    select
        session_id,
        final_course_id,
        case
            when final_course_id is not null then row_number() over (
                partition by final_course_id order by started_at, session_id
            )
        end as session_number
    from with_course
),

final as (
    select
        s.session_id,
        s.client_id,
        s.therapist_id,
        n.final_course_id as course_id,
        n.session_number::integer as session_number,
        s.started_at,
        s.session_date,
        s.status,
        s.duration_min,
        s.warmup_min,
        s.feet,
        s.direction,
        s.techniques,
        s.spine_pressure,
        s.discomfort_reported,
        s.notes,
        s.course_id as declared_course_id
    from sessions s
    join numbered n using (session_id)
    -- stored in client order: the dashboard looks sessions up by client (zone maps)
    order by s.client_id, s.started_at, s.session_id
)

select * from final
