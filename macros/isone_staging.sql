{#-
    ISO-NE staging models that share one shape: each pair of tables (day-ahead and real-time
    demand or LMP, solar and wind forecasts, locations and pricing nodes) is staged by the same
    SQL, so the marts that compare them can rely on identical columns.
-#}

{# An ISO-NE interval from its BeginDate: start and end in UTC, the local wall time and offset as
    published, and the market day; `interval_seconds` is the interval's length. #}
{% macro isone_interval_columns(interval_seconds) -%}
    {{ utc_timestamp('begin_date') }} as interval_start_utc,
    {{ add_seconds(utc_timestamp('begin_date'), interval_seconds) }} as interval_end_utc,
    begin_date_local as interval_start_local,
    begin_date_offset as utc_offset,
    cast(substr(begin_date_local, 1, 10) as date) as market_date
{%- endmacro %}

{# Hourly demand per load zone (day-ahead cleared or real-time), MW. #}
{% macro isone_hourly_demand_staging(table) -%}
    with

    source as (

        select * from {{ source_or_empty('isone', table, [
            ('begin_date', 'timestamp'),
            ('begin_date_local', 'string'),
            ('begin_date_offset', 'string'),
            ('location', 'string'),
            ('loc_id', 'string'),
            ('load', 'number')
        ] + raw_standard_columns()) }}

    ),

    renamed as (

        select
            {{ isone_interval_columns(3600) }},
            cast(loc_id as {{ dbt.type_int() }}) as location_id,
            location as location_name,
            load as load_mw,
            {{ staged_standard_columns() }}
        from source

    )

    {{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
{%- endmacro %}

{# A seven-day solar or wind power forecast, hourly, MW: one report per day, each
    forecasting up to eight market days (report_date is the day of the report). #}
{% macro isone_seven_day_forecast_staging(table) -%}
    with

    source as (

        select * from {{ source_or_empty('isone', table, [
            ('report_date', 'date'),
            ('creation_date', 'timestamp'),
            ('creation_date_local', 'string'),
            ('creation_date_offset', 'string'),
            ('begin_date', 'timestamp'),
            ('begin_date_local', 'string'),
            ('begin_date_offset', 'string'),
            ('hour_ending', 'string'),
            ('mw', 'number')
        ] + raw_standard_columns()) }}

    ),

    renamed as (

        select
            report_date,
            {{ utc_timestamp('creation_date') }} as published_at_utc,
            {{ isone_interval_columns(3600) }},
            hour_ending,
            mw as forecast_mw,
            {{ staged_standard_columns() }}
        from source

    )

    {{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
{%- endmacro %}

{# LMP per pricing location, $/MWh, with its energy, congestion and loss components;
    `interval_seconds` is the length of one interval (3600 day-ahead hourly, 300 real-time). #}
{% macro isone_lmp_staging(table, interval_seconds) -%}
    with

    source as (

        select * from {{ source_or_empty('isone', table, [
            ('begin_date', 'timestamp'),
            ('begin_date_local', 'string'),
            ('begin_date_offset', 'string'),
            ('location', 'string'),
            ('loc_id', 'string'),
            ('loc_type', 'string'),
            ('lmp_total', 'number'),
            ('energy_component', 'number'),
            ('congestion_component', 'number'),
            ('loss_component', 'number')
        ] + raw_standard_columns()) }}

    ),

    renamed as (

        select
            {{ isone_interval_columns(interval_seconds) }},
            cast(loc_id as {{ dbt.type_int() }}) as location_id,
            location as location_name,
            loc_type as location_type,
            lmp_total as lmp,
            energy_component,
            congestion_component,
            loss_component,
            {{ staged_standard_columns() }}
        from source

    )

    {{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
{%- endmacro %}

{# A list of locations (core locations or pricing nodes): every one ever loaded, flagged
    when it was in the latest list. #}
{% macro isone_location_list_staging(table) -%}
    with

    source as (

        select * from {{ source_or_empty('isone', table, [
            ('location_id', 'integer'),
            ('location_type', 'string'),
            ('location_name', 'string'),
            ('area_type', 'string')
        ] + raw_standard_columns()) }}

    ),

    renamed as (

        select
            cast(location_id as {{ dbt.type_int() }}) as location_id,
            location_name,
            location_type,
            area_type,
            {{ staged_standard_columns() }}
        from source

    ),

    latest as (

        {{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}

    )

    select
        *,
        loaded_at_utc = max(loaded_at_utc) over () as is_in_latest_load
    from latest
{%- endmacro %}
