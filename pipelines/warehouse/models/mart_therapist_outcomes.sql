-- mart_therapist_outcomes: one row per lead therapist of a fitted course and metric (spec
-- §7.4): observed against the case-mix model's expected improvement, on a funnel.
-- Input: case_mix_therapists, a temporary table filled by pipelines/warehouse/fair.py just
-- before this statement (no rows for a metric without a model).
with metrics as (
    select * from (values ('pain', 1), ('muscle_tone', 2), ('mobility', 3))
        as m (metric, metric_order)
),

fitted as (  -- typed here: without a model there are no rows, and no types
    select
        therapist_id::varchar as therapist_id,
        metric::varchar as metric,
        courses::integer as courses,
        observed_mean::double as observed_mean,
        expected_mean::double as expected_mean,
        difference::double as difference,
        adjusted_mean::double as adjusted_mean,
        ci95_low::double as ci95_low,
        ci95_high::double as ci95_high,
        z::double as z,
        funnel_band::varchar as funnel_band
    from case_mix_therapists
),

final as (
    select f.*
    from fitted f
    join metrics m using (metric)
    order by m.metric_order, f.therapist_id
)

select * from final
