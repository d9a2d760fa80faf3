-- int_case_mix_courses: one row per completer and metric (spec §7.1, §7.3): a `completed`
-- course with an improvement, and what the case-mix model takes of it. A view: read once a
-- load by pipelines/warehouse/fair.py, which fits the model.
with completers as (
    select course_id, client_id, cohort, metric, improvement, baseline
    from int_course_progress
    where status = 'completed' and improvement is not null
),

final as (
    select
        p.metric,
        p.course_id,
        p.cohort,
        p.improvement,
        p.baseline,
        c.age_at_start as age,
        cl.sex,
        c.contraindicated,
        l.lead_therapist_id
    from completers p
    join mart_courses c on c.course_id = p.course_id
    join mart_clients cl on cl.client_id = c.client_id
    left join int_course_lead_therapist l on l.course_id = p.course_id
)

select * from final
