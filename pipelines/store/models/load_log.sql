-- load_log: one row per processed file, with its reconciliation (spec §3, §6), from
-- meta_load_log.
select
    source_file,
    content_hash,
    entity,
    loaded_at,
    rows_read,
    rows_loaded,
    rows_quarantined,
    rows_duplicate,
    status,
    message
from meta_load_log
