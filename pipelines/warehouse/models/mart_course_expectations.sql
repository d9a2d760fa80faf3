-- mart_course_expectations: one row per in-progress course, metric and session k with a pre
-- value (spec §7.5): its change from baseline against the expected course, the changes at k
-- of completed courses of the same cohort with a baseline within ±1 point (at least 20 of
-- them; else the same from every cohort; else no band; settings expected_baseline_window,
-- expected_min_references, off_track_from_session). Quantiles by linear interpolation
-- between order statistics (numpy's default, DuckDB's quantile_cont), taken from the
-- counted references of mart_expected_changes: position h = (N − 1) q, the values at
-- floor(h) and ceil(h), interpolated. Rebuilt at every load: the references move with
-- every completed course.
with current_rows as (
    select course_id, client_id, cohort, metric, session_number, value, baseline, change
    from int_course_changes
    where status = 'in_progress'
),

keys as (
    select distinct metric, session_number, cohort, baseline from current_rows
),

scopes as (
    select * from (values ('cohort'), ('all')) as s (scope)
),

windows as (  -- each key's references, in both scopes, as (change, courses)
    select k.metric, k.session_number, k.cohort, k.baseline, s.scope, e.change,
        sum(e.courses) as courses
    from keys k
    cross join scopes s
    join mart_expected_changes e
        on e.metric = k.metric
        and e.session_number = k.session_number
        and e.baseline between k.baseline - $expected_baseline_window
            and k.baseline + $expected_baseline_window
        and (s.scope = 'all' or e.cohort = k.cohort)
    group by all
),

running as (
    select
        *,
        sum(courses) over (
            partition by metric, session_number, cohort, baseline, scope order by change
            rows between unbounded preceding and current row
        ) as upto,
        sum(courses) over (partition by metric, session_number, cohort, baseline, scope)
            as total
    from windows
),

positions as (  -- h = (N − 1) q of each quantile
    select
        *,
        (total - 1) * 0.10 as h10,
        (total - 1) * 0.25 as h25,
        (total - 1) * 0.50 as h50,
        (total - 1) * 0.75 as h75
    from running
),

order_statistics as (  -- the value at 0-based position i: the first change whose upto > i
    select
        metric, session_number, cohort, baseline, scope,
        any_value(total) as total,
        any_value(h10) as h10, any_value(h25) as h25, any_value(h50) as h50,
        any_value(h75) as h75,
        min(change) filter (where upto > floor(h10)) as lo10,
        min(change) filter (where upto > ceil(h10)) as hi10,
        min(change) filter (where upto > floor(h25)) as lo25,
        min(change) filter (where upto > ceil(h25)) as hi25,
        min(change) filter (where upto > floor(h50)) as lo50,
        min(change) filter (where upto > ceil(h50)) as hi50,
        min(change) filter (where upto > floor(h75)) as lo75,
        min(change) filter (where upto > ceil(h75)) as hi75
    from positions
    group by metric, session_number, cohort, baseline, scope
),

bands as (
    select
        metric, session_number, cohort, baseline, scope, total,
        lo10 + (h10 - floor(h10)) * (hi10 - lo10) as p10,
        lo25 + (h25 - floor(h25)) * (hi25 - lo25) as p25,
        lo50 + (h50 - floor(h50)) * (hi50 - lo50) as p50,
        lo75 + (h75 - floor(h75)) * (hi75 - lo75) as p75
    from order_statistics
),

scoped as (  -- which scope each key uses: its cohort's, else every cohort's, else none
    select
        k.metric, k.session_number, k.cohort, k.baseline,
        case
            when c.total >= $expected_min_references then 'cohort'
            when a.total >= $expected_min_references then 'all'
        end as reference_scope,
        coalesce(c.total, 0) as cohort_total,
        coalesce(a.total, 0) as all_total
    from keys k
    left join bands c
        on c.scope = 'cohort' and c.metric = k.metric and c.session_number = k.session_number
        and c.cohort = k.cohort and c.baseline = k.baseline
    left join bands a
        on a.scope = 'all' and a.metric = k.metric and a.session_number = k.session_number
        and a.cohort = k.cohort and a.baseline = k.baseline
),

chosen as (  -- the band of the scope used; with no band, the count in scope `all`
    select
        s.metric, s.session_number, s.cohort, s.baseline, s.reference_scope,
        case when s.reference_scope = 'cohort' then s.cohort_total else s.all_total end
            as reference_courses,
        b.p10, b.p25, b.p50, b.p75
    from scoped s
    left join bands b
        on b.scope = s.reference_scope and b.metric = s.metric
        and b.session_number = s.session_number and b.cohort = s.cohort
        and b.baseline = s.baseline
),

final as (
    select
        r.course_id,
        r.client_id,
        r.metric,
        r.session_number,
        r.value,
        r.change,
        b.reference_courses::integer as reference_courses,
        b.reference_scope,
        b.p10 as expected_p10,
        b.p25 as expected_p25,
        b.p50 as expected_median,
        b.p75 as expected_p75,
        coalesce(r.session_number >= $off_track_from_session and r.change < b.p10, false)
            as off_track
    from current_rows r
    join chosen b
        on b.metric = r.metric and b.session_number = r.session_number
        and b.cohort = r.cohort and b.baseline = r.baseline
)

select * from final
order by course_id, metric, session_number
