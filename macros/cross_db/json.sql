{#
    Unnesting a JSON array column (a nested list the loader keeps whole, e.g. AGPT's per-period
    `data`), one row per element. DuckDB keeps such a column as JSON text; BigQuery as JSON (or
    STRING): both are read by path. Use in a FROM clause after the relation that holds the column:
        from periods {{ json_array_elements('periods.data', 'item') }}
    and read fields of each element with {{ json_field_text('item', 'psrType') }}.
#}
{% macro json_array_elements(json_column, element) -%}
    {{ return(adapter.dispatch('json_array_elements')(json_column, element)) }}
{%- endmacro %}

{% macro default__json_array_elements(json_column, element) -%}
    cross join unnest(cast(cast({{ json_column }} as json) as json[])) as {{ element }}_list ({{ element }})
{%- endmacro %}

{% macro bigquery__json_array_elements(json_column, element) -%}
    cross join unnest(json_query_array({{ json_column }})) as {{ element }}
{%- endmacro %}


{# A scalar field of a JSON object as text (null when absent or JSON null). #}
{% macro json_field_text(json_value, field) -%}
    {{ return(adapter.dispatch('json_field_text')(json_value, field)) }}
{%- endmacro %}

{% macro default__json_field_text(json_value, field) -%}
    json_extract_string({{ json_value }}, '$.{{ field }}')
{%- endmacro %}

{% macro bigquery__json_field_text(json_value, field) -%}
    json_value({{ json_value }}, '$.{{ field }}')
{%- endmacro %}
