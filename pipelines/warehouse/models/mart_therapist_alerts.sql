-- mart_therapist_alerts: alerts per therapist and alert type (from mart_alerts), for the
-- dashboard's therapists page. No parameters. Small: at most therapists × alert types rows.
with per_type as (
    select therapist_id, alert_type, count(*) as alerts
    from mart_alerts
    group by therapist_id, alert_type
),

final as (
    select therapist_id, alert_type, alerts
    from per_type
    order by therapist_id, alert_type
)

select * from final
