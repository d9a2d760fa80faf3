-- stg_sessions: the current version of each session (spec §3: a later load wins; within a
-- load the later file, within a file the later row), typed, from the history raw_sessions.
-- status: blank in the export means completed (spec §2).
with current_version as (
    select * from raw_sessions
    qualify row_number() over (
        partition by session_id order by _load_seq desc, _file_seq desc, _row_number desc
    ) = 1
),

final as (
    select
        session_id,
        client_id,
        therapist_id,
        course_id,
        started_at,
        coalesce(status, 'completed') as status,
        duration_min,
        warmup_min,
        feet,
        direction,
        techniques,
        spine_pressure,
        discomfort_reported,
        notes
    from current_version
)

select * from final
