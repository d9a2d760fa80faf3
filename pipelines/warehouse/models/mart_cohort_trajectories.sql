-- mart_cohort_trajectories: per cohort, metric and session number 1–15, the count, mean and
-- sample SD of the pre scores of every course's sessions: the dashboard's cohort trajectory
-- when no filter is set (with a filter it aggregates mart_course_sessions itself, the same
-- way). No parameters. Small: at most 3 cohorts × 3 metrics × 15 rows.
with course_cohorts as (
    select course_id, cohort from mart_courses
),

pre_values as (
    -- one row per (course session, metric) with a pre value (UNPIVOT drops NULLs)
    unpivot (
        select c.cohort, cs.session_number, cs.pre_pain as pain,
            cs.pre_muscle_tone as muscle_tone, cs.pre_mobility as mobility
        from mart_course_sessions cs
        join course_cohorts c on c.course_id = cs.course_id
        where cs.session_number between 1 and 15
    ) on pain, muscle_tone, mobility into name metric value value
),

final as (
    select
        cohort,
        metric,
        session_number,
        count(*) as n,
        avg(value) as mean,
        stddev_samp(value) as sd
    from pre_values
    group by cohort, metric, session_number
    order by cohort, metric, session_number
)

select * from final
