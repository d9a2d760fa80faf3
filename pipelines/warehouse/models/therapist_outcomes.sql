-- therapist_outcomes: the analysts' view (spec §7.4) over mart_therapist_outcomes.
-- therapist_outcomes.yml beside it documents every column.
select
    therapist_id,
    metric,
    courses,
    observed_mean,
    expected_mean,
    difference,
    adjusted_mean,
    ci95_low,
    ci95_high,
    z,
    funnel_band
from mart_therapist_outcomes
