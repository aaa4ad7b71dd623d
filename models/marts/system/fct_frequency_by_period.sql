-- System frequency statistics per settlement period (FREQ readings, every 15 seconds).
-- Incremental by settlement day (macros/incremental.sql), the lookback in the model's YAML.
{{ config(**incremental_by_day('settlement_date')) }}

{%- set window_start = incremental_window_start() %}

with

readings as (

    select
        measurement_time_utc,
        frequency,
        {{ settlement_date_of('measurement_time_utc') }} as settlement_date,
        {{ settlement_period_of('measurement_time_utc') }} as settlement_period
    from {{ ref('stg_bmrs__freq') }}
    where {{ on_or_after(settlement_date_of('measurement_time_utc'), window_start) }}

)

select
    settlement_date,
    settlement_period,
    {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
    count(*) as readings,
    min(frequency) as min_frequency_hz,
    max(frequency) as max_frequency_hz,
    avg(frequency) as mean_frequency_hz,
    stddev_samp(frequency) as stddev_frequency_hz,
    {{ sum_as_bigint('case when frequency < 49.8 or frequency > 50.2 then 1 else 0 end') }}
        as readings_outside_operational_limits
from readings
group by 1, 2
