-- course_expectations: the analysts' view (spec §7.5) over mart_course_expectations.
-- course_expectations.yml beside it documents every column.
select
    course_id,
    client_id,
    metric,
    session_number,
    value,
    change,
    reference_courses,
    reference_scope,
    expected_p10,
    expected_p25,
    expected_median,
    expected_p75,
    off_track
from mart_course_expectations
