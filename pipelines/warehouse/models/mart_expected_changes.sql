-- mart_expected_changes: the references of the expected course (spec §7.5), counted: how
-- many completed courses of a cohort with a given baseline showed a given change at their
-- session k. A few tens of thousands of rows at 1 M sessions, rebuilt at every load; the
-- quantiles of any window of baselines are computed from it (mart_course_expectations).
with reference_courses as (
    select metric, session_number, cohort, baseline, change
    from int_course_changes
    where status = 'completed'
),

final as (
    select metric, session_number, cohort, baseline, change, count(*) as courses
    from reference_courses
    group by all
)

select * from final
