{#
    Partitioning and clustering for the big facts on BigQuery (scans prune to the days asked
    for); on DuckDB, which needs neither, only the model's docs record them. Use in a config:
        {{ config(**partitioned_by_day('settlement_date', ['national_grid_bm_unit'])) }}
#}
{% macro partitioned_by_day(field, cluster=[]) -%}
    {%- set settings = {'meta': {'partition_field': field, 'cluster_fields': cluster}} -%}
    {%- if target.type == 'bigquery' -%}
        {%- do settings.update({'partition_by': {'field': field, 'data_type': 'date', 'granularity': 'day'}}) -%}
        {%- if cluster -%}{%- do settings.update({'cluster_by': cluster}) -%}{%- endif -%}
    {%- endif -%}
    {{ return(settings) }}
{%- endmacro %}
