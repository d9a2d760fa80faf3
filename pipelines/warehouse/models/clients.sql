-- clients: the analysts' view (spec §6) over mart_clients.
-- clients.yml beside it documents every column: a column added here is added there.
select
    client_id,
    birth_date,
    sex,
    height_cm,
    weight_kg,
    bmi,
    athlete,
    cohort,
    contraindications,
    name,
    intake_date
from mart_clients
