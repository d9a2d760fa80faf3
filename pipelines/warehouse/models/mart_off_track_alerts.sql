-- mart_off_track_alerts: one `off_track` alert per in-progress course whose latest session
-- with a value is off track in some metric (spec §7.5), with mart_alerts' columns; the
-- analysts' view alerts adds them to mart_alerts. Rebuilt at every load, as the expected
-- course moves with every completed course.
with metrics as (
    select * from (values ('pain', 1), ('muscle_tone', 2), ('mobility', 3))
        as m (metric, metric_order)
),

per_metric as (  -- the latest row of each metric, and since when it has been off track
    select
        course_id,
        client_id,
        metric,
        max(session_number) as latest,
        arg_max(off_track, session_number) as latest_off_track,
        max(session_number) filter (where not off_track) as last_on_track
    from mart_course_expectations
    group by course_id, client_id, metric
),

off as (
    select
        p.course_id,
        p.client_id,
        p.metric,
        p.latest,
        (
            select min(e.session_number) from mart_course_expectations e
            where e.course_id = p.course_id and e.metric = p.metric and e.off_track
                and e.session_number > coalesce(p.last_on_track, 0)
        ) as since
    from per_metric p
    where p.latest_off_track
),

per_course as (
    select
        o.course_id,
        o.client_id,
        max(o.latest) as latest,
        string_agg(o.metric || ' since session ' || o.since, ', ' order by m.metric_order)
            as metrics
    from off o
    join metrics m using (metric)
    group by o.course_id, o.client_id
),

final as (
    select
        'off_track' as alert_type,
        c.client_id,
        c.course_id,
        null::varchar as session_id,
        s.therapist_id,
        s.started_at as occurred_at,
        'below the 10th percentile of the expected course: ' || c.metrics as detail,
        'off_track:course:' || c.course_id as alert_id
    from per_course c
    join mart_sessions s
        on s.course_id = c.course_id and s.session_number = c.latest and s.status = 'completed'
    order by c.client_id, occurred_at
)

select * from final
