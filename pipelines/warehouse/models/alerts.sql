-- alerts: the analysts' view (spec §6) over mart_alerts.
-- alerts.yml beside it documents every column: a column added here is added there.
select
    alert_type,
    client_id,
    course_id,
    session_id,
    therapist_id,
    occurred_at,
    detail,
    alert_id
from mart_alerts
