{# A zone-aware instant: DuckDB timestamptz, BigQuery TIMESTAMP (raw tables use these). #}
{% macro type_timestamptz() -%}
    {{ return(adapter.dispatch('type_timestamptz')()) }}
{%- endmacro %}

{% macro default__type_timestamptz() -%}
    timestamptz
{%- endmacro %}

{% macro bigquery__type_timestamptz() -%}
    timestamp
{%- endmacro %}


{# A 64-bit float for money, energy and measurements: DuckDB DOUBLE, BigQuery FLOAT64.
   dbt.type_float() is DuckDB's 32-bit FLOAT (122.17 would read back as 122.16999817), so the
   project never uses it. #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro bigquery__type_double() -%}
    float64
{%- endmacro %}


{# SQL type of a raw column from its logical type in the loader's catalogue. #}
{% macro raw_type(logical) -%}
    {%- if logical == 'integer' -%} {{ dbt.type_bigint() }}
    {%- elif logical == 'number' -%} {{ type_double() }}
    {%- elif logical == 'boolean' -%} {{ dbt.type_boolean() }}
    {%- elif logical == 'timestamp' -%} {{ type_timestamptz() }}
    {%- elif logical == 'date' -%} date
    {%- else -%} {{ dbt.type_string() }}
    {%- endif -%}
{%- endmacro %}


{# All columns but one: DuckDB `* exclude (c)`, BigQuery `* except (c)`. #}
{% macro star_except(column) -%}
    {{ return(adapter.dispatch('star_except')(column)) }}
{%- endmacro %}

{% macro default__star_except(column) -%}
    * exclude ({{ column }})
{%- endmacro %}

{% macro bigquery__star_except(column) -%}
    * except ({{ column }})
{%- endmacro %}

