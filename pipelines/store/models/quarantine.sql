-- quarantine: the rejected rows not yet resolved (spec §3, §6), from meta_quarantine.
select
    entity,
    source_file,
    row_number,
    record,
    reasons,
    reference_only,
    first_seen_at
from meta_quarantine
where resolved_at is null
