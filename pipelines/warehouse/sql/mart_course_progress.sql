-- mart_course_progress: one row per course and metric (spec §4): int_course_progress with
-- the reliable change index, which compares each course's improvement with the spread of
-- every course's baseline (so it is recomputed over all courses at every load).
-- Parameters: $rci_threshold.
--
-- rci is rounded to 9 decimals before it is compared, so that 3 / (2 × √2 × √0.5) is an rci
-- of exactly 1.5.
with progress as (
    select * from int_course_progress
),

spread as (
    -- SD of baselines over all courses with a baseline, per metric (rounded: a spread
    -- below 1e-9 is no spread)
    select
        *,
        round(stddev_samp(baseline) over (partition by metric), 9) as baseline_sd,
        count(baseline) over (partition by metric) as baselines
    from progress
),

with_rci as (
    select
        *,
        case
            when baselines >= 2 and baseline_sd > 0
                then round(
                    improvement / nullif(baseline_sd * sqrt(2) * sqrt(1 - reliability), 0), 9
                )
        end as rci
    from spread
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
        rci >= $rci_threshold as reliable_improvement,
        n_values,
        baseline_session_number,
        latest_session_number
    from with_rci
    order by course_id, metric_order
)

select * from final
