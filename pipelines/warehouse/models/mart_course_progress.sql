-- mart_course_progress: one row per course and metric (spec §4): int_course_progress with
-- the reliable change index, rci = improvement / se_diff, se_diff and the threshold as
-- mart_baseline_spread defines them for the metric (the spread of every course's baseline).
-- A view (derive.VIEW_MARTS): rci is computed when read, so a load that moves the spread
-- rewrites no row. No parameters (a view cannot hold them: the threshold comes with the
-- spread).
--
-- rci is rounded to 9 decimals before it is compared, so that 3 / (2 × √2 × √0.5) is an rci
-- of exactly 1.5.
with progress as (
    select * from int_course_progress
),

spread as (
    select metric, se_diff, rci_threshold from mart_baseline_spread
),

with_rci as (
    select
        p.*,
        s.rci_threshold,
        round(p.improvement / s.se_diff, 9) as rci
    from progress p
    left join spread s on s.metric = p.metric
),

final as (
    select
        course_id,
        client_id,
        cohort,
        metric,
        status,
        sessions_completed,
        baseline,
        latest,
        improvement,
        pct_improvement,
        improvement_per_session,
        immediate_effect,
        responder,
        worsened,
        rci,
        rci >= rci_threshold as reliable_improvement,
        n_values,
        baseline_session_number,
        latest_session_number
    from with_rci
)

select * from final
