-- cohort_outcomes: the analysts' view (spec §6) over mart_cohort_outcomes.
-- cohort_outcomes.yml beside it documents every column: a column added here is added there.
select
    cohort,
    metric,
    courses_completed,
    mean_improvement,
    ci95_low,
    ci95_high,
    median_improvement,
    responder_rate,
    dropout_rate,
    sd_improvement,
    itt_courses,
    itt_mean_improvement,
    itt_responder_rate,
    missing_outcome_rate
from mart_cohort_outcomes
