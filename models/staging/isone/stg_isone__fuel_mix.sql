-- ISO-NE generation by fuel category at each published instant (irregular, about every five
-- minutes), MW; the marginal fuel flagged.
with

source as (

    select * from {{ source_or_empty('isone', 'fuel_mix', [
        ('begin_date', 'timestamp'),
        ('begin_date_local', 'string'),
        ('begin_date_offset', 'string'),
        ('gen_mw', 'number'),
        ('fuel_category_rollup', 'string'),
        ('fuel_category', 'string'),
        ('marginal_flag', 'string')
    ] + raw_standard_columns()) }}

),

renamed as (

    select
        {{ utc_timestamp('begin_date') }} as observed_at_utc,
        begin_date_local as observed_at_local,
        begin_date_offset as utc_offset,
        cast(substr(begin_date_local, 1, 10) as date) as market_date,
        fuel_category,
        fuel_category_rollup,
        gen_mw as generation_mw,
        marginal_flag = 'Y' as is_marginal,
        {{ staged_standard_columns() }}
    from source

)

{{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
