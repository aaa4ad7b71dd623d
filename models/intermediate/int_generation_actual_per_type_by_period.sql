-- AGPT (B1620) actual generation per production type, one row per settlement period and PSR
-- type: the loader keeps each period's list of {businessType, psrType, quantity} whole (a JSON
-- column), unnested here with the cross-database macros in macros/cross_db/json.sql.

with

periods as (

    select * from {{ ref('stg_bmrs__generation_actual_per_type') }}

),

unnested as (

    select
        periods.start_time_utc,
        periods.settlement_period,
        periods.loaded_at_utc,
        {{ json_field_text('item', 'psrType') }} as psr_type,
        {{ json_field_text('item', 'businessType') }} as business_type,
        {{ json_field_text('item', 'quantity') }} as quantity
    from periods
    {{ json_array_elements('periods.' ~ adapter.quote('data'), 'item') }}

)

select
    -- the settlement day is the Europe/London day the period starts in (23:00 UTC the evening
    -- before in summer), not the UTC date of the start time
    {{ settlement_date_of('start_time_utc') }} as settlement_date,
    settlement_period,
    start_time_utc,
    psr_type,
    business_type,
    cast(quantity as {{ type_double() }}) as quantity_mw,
    loaded_at_utc
from unnested
