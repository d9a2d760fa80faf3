-- stg_therapists: the current version of each therapist (spec §3: a later load wins; within
-- a load the later file, within a file the later row), typed, from the history raw_therapists.
with current_version as (
    select * from raw_therapists
    qualify row_number() over (
        partition by therapist_id order by _load_seq desc, _file_seq desc, _row_number desc
    ) = 1
),

final as (
    select
        therapist_id,
        name,
        qualification,
        qualified_until,
        body_weight_kg
    from current_version
)

select * from final
