-- mart_cohort_outcomes_adjusted: one row per metric and cohort with a completer (spec §7.3):
-- raw and case-mix adjusted mean improvement, and the difference against `other`.
-- Input: case_mix_cohorts, a temporary table of the fitted figures, filled by
-- pipelines/warehouse/fair.py (statsmodels OLS) just before this statement.
with metrics as (
    select * from (values ('pain', 1), ('muscle_tone', 2), ('mobility', 3))
        as m (metric, metric_order)
),

cohort_order as (
    select * from (values ('athlete', 1), ('overweight', 2), ('other', 3))
        as c (cohort, cohort_order)
),

fitted as (  -- typed here: a metric without completers leaves no rows, and no types
    select
        cohort::varchar as cohort,
        metric::varchar as metric,
        courses::integer as courses,
        raw_mean_improvement::double as raw_mean_improvement,
        adjusted_mean_improvement::double as adjusted_mean_improvement,
        adjusted_ci95_low::double as adjusted_ci95_low,
        adjusted_ci95_high::double as adjusted_ci95_high,
        difference_vs_other::double as difference_vs_other,
        difference_ci95_low::double as difference_ci95_low,
        difference_ci95_high::double as difference_ci95_high,
        difference_p_value::double as difference_p_value,
        model_courses::integer as model_courses,
        model_r_squared::double as model_r_squared,
        model_residual_sd::double as model_residual_sd
    from case_mix_cohorts
),

final as (
    select f.*
    from fitted f
    join metrics m using (metric)
    join cohort_order o using (cohort)
    order by o.cohort_order, m.metric_order
)

select * from final
