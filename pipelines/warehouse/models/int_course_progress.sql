-- int_course_progress: one row per course and metric (spec §4), also when the metric has
-- no values in the course: everything of mart_course_progress that depends on the course
-- alone (all but rci, which depends on the spread of every course's baseline).
-- Parameters: $mcid_<metric>.
--
-- Kept as its own table so that a load recomputes only the courses it touched
-- (pipelines/warehouse/incremental.py); mart_course_progress (a view) adds rci from
-- mart_baseline_spread.
-- Only scores of the course's sessions count (mart_course_sessions holds only sessions with a
-- course, i.e. completed ones, so scores of other sessions never reach this table).
-- Differences, slopes and percentages are rounded to 9 decimals before they are compared or
-- reported, so that 2.3 -> 0.3 is an improvement of exactly 2 (IEEE doubles give
-- 1.9999999999999998).
with metrics as (
    -- orientation: +1 when higher is better; oriented change a -> b = orientation * (b - a)
    select * from (values
        ('pain', -1, $mcid_pain::double, 1),
        ('muscle_tone', -1, $mcid_muscle_tone::double, 2),
        ('mobility', 1, $mcid_mobility::double, 3)
    ) as m (metric, orientation, mcid, metric_order)
),

courses as (
    select course_id, client_id, cohort, status, sessions_completed from mart_courses
),

pre_wide as (
    -- mart_course_sessions holds only sessions of courses, with their pre/post scores
    select
        course_id,
        session_id,
        session_number,
        pre_pain as pain,
        pre_muscle_tone as muscle_tone,
        pre_mobility as mobility
    from mart_course_sessions
),

post_wide as (
    select
        course_id,
        session_id,
        post_pain as pain,
        post_muscle_tone as muscle_tone,
        post_mobility as mobility
    from mart_course_sessions
),

-- one row per (course, session, metric) with a non-null value (UNPIVOT drops NULLs)
pre_values as (
    unpivot pre_wide on pain, muscle_tone, mobility into name metric value value
),

post_values as (
    unpivot post_wide on pain, muscle_tone, mobility into name metric value value
),

pre_stats as (
    select
        course_id,
        metric,
        count(*) as n_values,
        min(session_number) as baseline_session_number,
        max(session_number) as latest_session_number,
        arg_min(value, session_number) as baseline,
        arg_max(value, session_number) as last_value,
        regr_slope(value, session_number) as slope
    from pre_values
    group by course_id, metric
),

immediate as (
    select
        pre.course_id,
        pre.metric,
        avg(round(m.orientation * (post.value - pre.value), 9)) as immediate_effect
    from pre_values pre
    join post_values post using (course_id, session_id, metric)
    join metrics m using (metric)
    group by pre.course_id, pre.metric
),

grid as (
    select c.*, m.*
    from courses c
    cross join metrics m
),

changes as (
    select
        g.*,
        p.n_values,
        p.baseline_session_number,
        p.baseline,
        case when p.latest_session_number <> p.baseline_session_number
            then p.latest_session_number end as latest_session_number,
        case when p.latest_session_number <> p.baseline_session_number
            then p.last_value end as latest,
        case when p.n_values >= 3
            then round(g.orientation * p.slope, 9) + 0.0 end as improvement_per_session,
        i.immediate_effect
    from grid g
    left join pre_stats p using (course_id, metric)
    left join immediate i using (course_id, metric)
),

improvements as (
    -- (+ 0.0 turns a negated zero, -0.0, into 0.0; 10 is the top of the 0–10 scale)
    select
        *,
        round(orientation * (latest - baseline), 9) + 0.0 as improvement,
        case when orientation < 0 then baseline else 10 - baseline end as possible
    from changes
),

final as (
    select
        course_id,
        client_id,
        cohort,
        metric,
        metric_order,
        status,
        sessions_completed,
        baseline,
        latest,
        improvement,
        round(100 * improvement / nullif(possible, 0), 9) as pct_improvement,
        improvement_per_session,
        immediate_effect,
        improvement >= mcid as responder,
        improvement <= -mcid as worsened,
        coalesce(n_values, 0)::integer as n_values,
        baseline_session_number::integer as baseline_session_number,
        latest_session_number::integer as latest_session_number
    from improvements
    -- stored in course order: the dashboard looks a course's progress up by course_id
    order by course_id, metric_order
)

select * from final
