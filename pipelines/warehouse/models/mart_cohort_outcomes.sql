-- mart_cohort_outcomes: one row per cohort (with at least one course) and metric (spec §4).
-- Input: mart_courses, mart_course_progress, and t_quantile_975(df, t), a small temporary
-- table with the Student t 0.975 quantile for every degree of freedom needed, filled by
-- derive.py with scipy.stats.t.ppf just before this statement.
with metrics as (
    select * from (values ('pain', 1), ('muscle_tone', 2), ('mobility', 3))
        as m (metric, metric_order)
),

cohort_order as (
    select * from (values ('athlete', 1), ('overweight', 2), ('other', 3))
        as c (cohort, cohort_order)
),

cohorts as (
    select distinct cohort from mart_courses
),

grid as (
    select c.cohort, m.metric, m.metric_order
    from cohorts c
    cross join metrics m
),

eligible as (
    select cohort, metric, improvement, responder
    from mart_course_progress
    where status = 'completed' and improvement is not null
),

stats as (
    select
        cohort,
        metric,
        count(*) as n,
        avg(improvement) as mean_improvement,
        stddev_samp(improvement) as sd_improvement,
        median(improvement) as median_improvement,
        avg(responder::integer) as responder_rate
    from eligible
    group by cohort, metric
),

ended as (  -- intention to treat (§7.2): completed or dropped out, with a baseline
    select cohort, metric, status, improvement, responder
    from mart_course_progress
    where status in ('completed', 'dropped_out') and baseline is not null
),

itt as (
    select
        cohort,
        metric,
        count(*) as itt_courses,
        -- no value after the baseline: no change (last observation carried forward)
        avg(coalesce(improvement, 0)) as itt_mean_improvement,
        avg(coalesce(responder, false)::integer) as itt_responder_rate,
        count(*) filter (where status = 'completed' and improvement is null)
        / nullif(count(*) filter (where status = 'completed'), 0) as missing_outcome_rate
    from ended
    group by cohort, metric
),

dropouts as (
    select
        cohort,
        count(*) filter (where status = 'dropped_out')
        / nullif(count(*) filter (where status in ('completed', 'dropped_out')), 0)
            as dropout_rate
    from mart_courses
    group by cohort
),

final as (
    select
        g.cohort,
        g.metric,
        coalesce(s.n, 0)::integer as courses_completed,
        s.mean_improvement,
        case when s.n >= 2
            then s.mean_improvement - t.t * s.sd_improvement / sqrt(s.n) end as ci95_low,
        case when s.n >= 2
            then s.mean_improvement + t.t * s.sd_improvement / sqrt(s.n) end as ci95_high,
        s.median_improvement,
        s.responder_rate,
        d.dropout_rate,
        s.sd_improvement,
        coalesce(i.itt_courses, 0)::integer as itt_courses,
        i.itt_mean_improvement,
        i.itt_responder_rate,
        i.missing_outcome_rate
    from grid g
    left join stats s using (cohort, metric)
    left join itt i using (cohort, metric)
    left join t_quantile_975 t on t.df = s.n - 1
    left join dropouts d using (cohort)
    left join cohort_order o using (cohort)
    order by o.cohort_order, g.metric_order
)

select * from final
