-- mart_baseline_spread: one row per metric: the spread of every course's baseline, which
-- the reliable change index divides by (spec §4), with the rci threshold it is compared to.
-- Parameters: $rci_threshold.
--
-- Three rows, rebuilt at every load from int_course_progress; mart_course_progress (a view)
-- reads it, so a new baseline that moves the spread rewrites no course's row.
with baselines as (
    select metric, baseline from int_course_progress
),

final as (
    select
        metric,
        -- SD of the baselines of all courses with one (rounded: a spread below 1e-9 is no
        -- spread)
        round(stddev_samp(baseline), 9) as baseline_sd,
        count(baseline) as baselines,
        $rci_threshold::double as rci_threshold
    from baselines
    group by metric
)

select * from final
