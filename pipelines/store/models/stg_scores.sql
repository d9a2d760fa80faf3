-- stg_scores: the current version of each score row, keyed by (session_id, timing) (spec §3:
-- a later load wins; within a load the later file, within a file the later row), typed, from
-- the history raw_scores.
with current_version as (
    select * from raw_scores
    qualify row_number() over (
        partition by session_id, timing
        order by _load_seq desc, _file_seq desc, _row_number desc
    ) = 1
),

final as (
    select
        session_id,
        client_id,
        timing,
        pain,
        muscle_tone,
        mobility,
        recorded_at
    from current_version
)

select * from final
