-- int_course_changes: one row per course, metric and session with a pre value (spec §7.5),
-- for courses `completed` (the references) or `in_progress` (the ones compared): the value
-- and the oriented change from the course's baseline, rounded to 9 decimals as improvement is.
-- A view (derive.VIEW_MARTS): about 2.4 M rows at 1 M sessions, cheap to compute and costly
-- to store, read once a load by mart_expected_changes and mart_course_expectations.
with metrics as (
    -- orientation: +1 when higher is better
    select * from (values ('pain', -1), ('muscle_tone', -1), ('mobility', 1))
        as m (metric, orientation)
),

pre_wide as (
    select
        course_id,
        session_number,
        pre_pain as pain,
        pre_muscle_tone as muscle_tone,
        pre_mobility as mobility
    from mart_course_sessions
),

pre_values as (  -- one row per (session, metric) with a value (UNPIVOT drops NULLs)
    unpivot pre_wide on pain, muscle_tone, mobility into name metric value value
),

courses as (
    select course_id, client_id, cohort, status, metric, baseline
    from int_course_progress
    where status in ('completed', 'in_progress') and baseline is not null
),

final as (
    select
        c.course_id,
        c.client_id,
        c.cohort,
        c.status,
        c.metric,
        v.session_number,
        v.value,
        c.baseline,
        round(m.orientation * (v.value - c.baseline), 9) as change
    from courses c
    join pre_values v on v.course_id = c.course_id and v.metric = c.metric
    join metrics m on m.metric = c.metric
)

select * from final
