-- stg_clients: the current version of each client (spec §3: a later load wins; within a
-- load the later file, within a file the later row), typed, from the history raw_clients.
-- contraindications: an empty list when none were given.
with current_version as (
    select * from raw_clients
    qualify row_number() over (
        partition by client_id order by _load_seq desc, _file_seq desc, _row_number desc
    ) = 1
),

final as (
    select
        client_id,
        name,
        birth_date,
        sex,
        height_cm,
        weight_kg,
        athlete,
        coalesce(contraindications, []::varchar[]) as contraindications,
        intake_date
    from current_version
)

select * from final
