{#-
    Time, the same on DuckDB and BigQuery. Staging turns every instant into a UTC timestamp
    without zone (DuckDB TIMESTAMP holding UTC; BigQuery TIMESTAMP, which is UTC), named *_utc.
-#}

{# An instant (DuckDB timestamptz / BigQuery TIMESTAMP) as a UTC timestamp. #}
{% macro utc_timestamp(column) -%}
    {{ return(adapter.dispatch('utc_timestamp')(column)) }}
{%- endmacro %}

{% macro default__utc_timestamp(column) -%}
    timezone('UTC', {{ column }})
{%- endmacro %}

{% macro bigquery__utc_timestamp(column) -%}
    {{ column }}
{%- endmacro %}


{#
    UTC start of settlement period `period` of `settlement_date` (a UK local date): local
    midnight converted to UTC, plus (period - 1) half-hours of absolute time, which is right on
    46- and 50-period clock-change days too.
#}
{% macro settlement_period_start_utc(settlement_date, period) -%}
    {{ return(adapter.dispatch('settlement_period_start_utc')(settlement_date, period)) }}
{%- endmacro %}

{% macro default__settlement_period_start_utc(settlement_date, period) -%}
    (timezone('UTC', timezone('Europe/London', cast({{ settlement_date }} as timestamp)))
        + cast({{ period }} - 1 as bigint) * interval 30 minute)
{%- endmacro %}

{% macro bigquery__settlement_period_start_utc(settlement_date, period) -%}
    timestamp_add(
        timestamp(datetime({{ settlement_date }}), 'Europe/London'),
        interval 30 * ({{ period }} - 1) minute
    )
{%- endmacro %}


{# The UK local settlement date that contains a UTC instant. #}
{% macro settlement_date_of(utc_ts) -%}
    {{ return(adapter.dispatch('settlement_date_of')(utc_ts)) }}
{%- endmacro %}

{% macro default__settlement_date_of(utc_ts) -%}
    cast(timezone('Europe/London', timezone('UTC', {{ utc_ts }})) as date)
{%- endmacro %}

{% macro bigquery__settlement_date_of(utc_ts) -%}
    date({{ utc_ts }}, 'Europe/London')
{%- endmacro %}


{# The settlement period (1..46/48/50) that contains a UTC instant. #}
{% macro settlement_period_of(utc_ts) -%}
    cast(floor(
        ({{ epoch_seconds(utc_ts) }}
         - {{ epoch_seconds(settlement_period_start_utc(settlement_date_of(utc_ts), 1)) }}) / 1800
    ) as {{ dbt.type_int() }}) + 1
{%- endmacro %}


{# Seconds since 1970-01-01 UTC, as a number. #}
{% macro epoch_seconds(utc_ts) -%}
    {{ return(adapter.dispatch('epoch_seconds')(utc_ts)) }}
{%- endmacro %}

{% macro default__epoch_seconds(utc_ts) -%}
    epoch({{ utc_ts }})
{%- endmacro %}

{% macro bigquery__epoch_seconds(utc_ts) -%}
    unix_micros({{ utc_ts }}) / 1000000
{%- endmacro %}


{# A UTC timestamp from seconds since the epoch. #}
{% macro from_epoch_seconds(seconds) -%}
    {{ return(adapter.dispatch('from_epoch_seconds')(seconds)) }}
{%- endmacro %}

{% macro default__from_epoch_seconds(seconds) -%}
    make_timestamp(cast(round(({{ seconds }}) * 1000000) as bigint))
{%- endmacro %}

{% macro bigquery__from_epoch_seconds(seconds) -%}
    timestamp_micros(cast(round(({{ seconds }}) * 1000000) as int64))
{%- endmacro %}


{# Minutes between two UTC timestamps, as a number (fractions kept). #}
{% macro minutes_between(start_ts, end_ts) -%}
    (({{ epoch_seconds(end_ts) }}) - ({{ epoch_seconds(start_ts) }})) / 60.0
{%- endmacro %}


{# A UTC timestamp moved by a number of seconds (a TIMESTAMP on BigQuery, not a DATETIME). #}
{% macro add_seconds(utc_ts, seconds) -%}
    {{ from_epoch_seconds(epoch_seconds(utc_ts) ~ ' + (' ~ seconds ~ ')') }}
{%- endmacro %}


{# A UTC timestamp floored to a step of whole seconds (3600: the start of its hour). #}
{% macro floor_to_seconds(utc_ts, step) -%}
    {{ from_epoch_seconds('floor((' ~ epoch_seconds(utc_ts) ~ ') / ' ~ step ~ ') * ' ~ step) }}
{%- endmacro %}
