-- mart_clients: one row per client (stg_clients) with BMI and cohort (spec §4).
-- BMI is rounded to 9 decimals so that e.g. 81 kg at 180 cm is exactly 25 (overweight),
-- whatever the floating-point noise of (180 / 100)².
-- The BMI cut-off 25 (WHO "overweight") is the spec's definition of the cohort, not a setting.
with clients as (
    select * from stg_clients
),

with_bmi as (
    select
        *,
        round(weight_kg / ((height_cm / 100.0) ^ 2), 9) as bmi
    from clients
),

final as (
    select
        client_id,
        name,
        birth_date,
        sex,
        height_cm,
        weight_kg,
        bmi,
        athlete,
        case
            when athlete then 'athlete'
            when bmi >= 25 then 'overweight'
            else 'other'
        end as cohort,
        contraindications,
        intake_date
    from with_bmi
)

select * from final
