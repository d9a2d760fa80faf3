-- mart_baseline_spread: one row per metric: everything the reliable change index of spec §4
-- takes besides a course's improvement. The one place its formula is written:
--   se_diff = SD × √2 × √(1 − r), SD the sample SD (n − 1) of the baselines of every course
--   with one, r the metric's test–retest reliability; rci = improvement / se_diff and
--   reliable_improvement = rci >= rci_threshold, applied per course by mart_course_progress.
-- se_diff (and so rci) is NULL with fewer than 2 baselines, an SD of 0, or r = 1.
-- Parameters: $reliability_<metric>, $rci_threshold.
--
-- Three rows, rebuilt at every load from int_course_progress; mart_course_progress (a view)
-- reads it, so a new baseline that moves the spread rewrites no course's row.
with reliabilities as (
    select * from (values
        ('pain', $reliability_pain::double),
        ('muscle_tone', $reliability_muscle_tone::double),
        ('mobility', $reliability_mobility::double)
    ) as r (metric, reliability)
),

baselines as (
    select metric, baseline from int_course_progress
),

spread as (
    select
        metric,
        -- SD of the baselines of all courses with one (rounded: a spread below 1e-9 is no
        -- spread)
        round(stddev_samp(baseline), 9) as baseline_sd,
        count(baseline) as baselines
    from baselines
    group by metric
),

final as (
    select
        s.metric,
        s.baseline_sd,
        s.baselines,
        r.reliability,
        case
            when s.baselines >= 2 and s.baseline_sd > 0
                then nullif(s.baseline_sd * sqrt(2) * sqrt(1 - r.reliability), 0)
        end as se_diff,
        $rci_threshold::double as rci_threshold
    from spread s
    join reliabilities r using (metric)
)

select * from final
