-- therapists: the analysts' view (spec §6) over stg_therapists.
-- therapists.yml beside it documents every column: a column added here is added there.
select
    therapist_id,
    qualification,
    qualified_until,
    body_weight_kg,
    name
from stg_therapists
