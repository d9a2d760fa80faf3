-- cohort_outcomes_adjusted: the analysts' view (spec §7.3) over mart_cohort_outcomes_adjusted.
-- cohort_outcomes_adjusted.yml beside it documents every column.
select
    cohort,
    metric,
    courses,
    raw_mean_improvement,
    adjusted_mean_improvement,
    adjusted_ci95_low,
    adjusted_ci95_high,
    difference_vs_other,
    difference_ci95_low,
    difference_ci95_high,
    difference_p_value,
    model_courses,
    model_r_squared,
    model_residual_sd
from mart_cohort_outcomes_adjusted
