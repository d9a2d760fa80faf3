-- mart_alerts: one row per alert (spec §5).
-- Parameters: $warmup_min_low, $warmup_min_high, $warmup_range, $duration_min_low,
-- $duration_min_high, $duration_range, $course_max_sessions.
--
-- Session alerts carry the session's ids and its started_at. Course alerts
-- (contraindication, too many sessions) have session_id NULL; their therapist_id and
-- occurred_at are those of the session that raised them: the course's first session for a
-- contraindication, the first session beyond $course_max_sessions for a long course.
with completed as (
    select * from mart_sessions where status = 'completed'
),

contraindication as (
    select
        'contraindication' as alert_type,
        c.client_id,
        c.course_id,
        null::varchar as session_id,
        s.therapist_id,
        s.started_at as occurred_at,
        array_to_string(
            c.contraindications
            || case
                when c.elderly then ['elderly (age ' || c.age_at_start || ' at course start)']
                else []::varchar[]
            end,
            '; '
        ) as detail
    from mart_courses c
    join completed s on s.course_id = c.course_id and s.session_number = 1
    where c.contraindicated
),

discomfort as (
    select
        'discomfort' as alert_type,
        client_id,
        course_id,
        session_id,
        therapist_id,
        started_at as occurred_at,
        'client reported pain or discomfort during the session' as detail
    from completed
    where discomfort_reported
),

spine_pressure as (
    select
        'spine_pressure' as alert_type,
        client_id,
        course_id,
        session_id,
        therapist_id,
        started_at as occurred_at,
        'force applied to the spine' as detail
    from completed
    where spine_pressure
),

qualification as (
    select
        s.*,
        t.therapist_id is null as therapist_unknown,
        nullif(trim(t.qualification), '') as qualification,
        t.qualified_until
    from completed s
    left join stg_therapists t on t.therapist_id = s.therapist_id
),

unqualified_therapist as (
    select
        'unqualified_therapist' as alert_type,
        client_id,
        course_id,
        session_id,
        therapist_id,
        started_at as occurred_at,
        case
            when therapist_unknown then 'therapist ' || therapist_id || ' is not on record'
            when qualification is null then 'therapist ' || therapist_id || ' has no qualification'
            else 'qualification ' || qualification || ' of therapist ' || therapist_id
                || ' expired on ' || qualified_until || ', before the session on '
                || session_date
        end as detail
    from qualification
    where qualification is null or qualified_until < session_date
),

session_reasons as (
    select
        *,
        list_filter(
            [
                case when warmup_min < $warmup_min_low or warmup_min > $warmup_min_high
                    then 'warm-up ' || regexp_replace(warmup_min::varchar, '\.0$', '')
                        || ' min outside ' || $warmup_range || ' min' end,
                case when duration_min < $duration_min_low or duration_min > $duration_min_high
                    then 'duration ' || regexp_replace(duration_min::varchar, '\.0$', '')
                        || ' min outside ' || $duration_range || ' min' end,
                case when len(techniques) > 0 and not list_contains(techniques, 'rubbing')
                    then 'techniques lack rubbing' end,
                case when len(techniques) > 0 and not list_contains(techniques, 'kneading')
                    then 'techniques lack kneading' end
            ],
            reason -> reason is not null
        ) as reasons
    from completed
),

session_deviation as (
    select
        'protocol_deviation' as alert_type,
        client_id,
        course_id,
        session_id,
        therapist_id,
        started_at as occurred_at,
        array_to_string(reasons, '; ') as detail
    from session_reasons
    where len(reasons) > 0
),

course_deviation as (
    select
        'protocol_deviation' as alert_type,
        c.client_id,
        c.course_id,
        null::varchar as session_id,
        s.therapist_id,
        s.started_at as occurred_at,
        'course has ' || c.sessions_completed || ' sessions, more than '
            || $course_max_sessions::varchar as detail
    from mart_courses c
    join completed s
        on s.course_id = c.course_id and s.session_number = $course_max_sessions + 1
    where c.sessions_completed > $course_max_sessions
),

all_alerts as (
    select * from contraindication
    union all
    select * from discomfort
    union all
    select * from spine_pressure
    union all
    select * from unqualified_therapist
    union all
    select * from session_deviation
    union all
    select * from course_deviation
),

final as (
    select
        alert_type,
        client_id,
        course_id,
        session_id,
        therapist_id,
        occurred_at,
        detail,
        alert_type || ':' || coalesce('session:' || session_id, 'course:' || course_id)
            as alert_id
    from all_alerts
    -- stored in client order (then time): the dashboard looks alerts up by client (zone maps)
    order by client_id, occurred_at, alert_type, alert_id
)

select * from final
