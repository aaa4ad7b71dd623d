{#-
    Models land in the schema their folder names (staging, intermediate, marts; seeds in
    reference) rather than dbt's default "<target schema>_<custom>", so BI tools find `marts`.
    On BigQuery the optional GRIDWAREHOUSE_BQ_DATASET_PREFIX is prepended.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ warehouse_schema(custom_schema_name | trim) }}
    {%- endif -%}
{%- endmacro %}


{% macro warehouse_schema(name) -%}
    {%- if target.type == 'bigquery' -%}
        {{ env_var('GRIDWAREHOUSE_BQ_DATASET_PREFIX', '') ~ name }}
    {%- else -%}
        {{ name }}
    {%- endif -%}
{%- endmacro %}
