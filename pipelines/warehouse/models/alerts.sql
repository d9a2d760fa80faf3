-- alerts: the analysts' view (spec §6, §7.5) over mart_alerts and mart_off_track_alerts.
-- alerts.yml beside it documents every column: a column added here is added there.
with safety as (
    select alert_type, client_id, course_id, session_id, therapist_id, occurred_at, detail,
        alert_id
    from mart_alerts
),

off_track as (
    select alert_type, client_id, course_id, session_id, therapist_id, occurred_at, detail,
        alert_id
    from mart_off_track_alerts
),

final as (
    select * from safety
    union all
    select * from off_track
)

select * from final
