{#
    Data tests scoped to a window (issue 21): `gridwarehouse run` passes the var
    `test_window_start` (an ISO date) so the data tests of the large models check only the rows
    from that day on, instead of every row of history every 15 minutes; unset (`gridwarehouse
    build`, `make test`, the cycle's daily full pass), every row is checked.

    Every data test has `where: "__test_window__"` (dbt_project.yml, `data_tests:`). dbt renders
    a `where` from YAML without the project's macros, so the placeholder is resolved here, in
    the project's `get_where_subquery`, which dbt calls for the model a generic test reads
    (docs.getdbt.com/reference/resource-configs/where, "Custom logic"). A model gets a window
    when it is large: the staging and intermediate models of test_window_columns() and every
    incremental mart (its day column, from incremental_by_day). Small models, seeds and sources
    are always tested whole.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__test_window__' in where -%}
        {%- set window = test_window_predicate() -%}
        {%- if window is none and where | trim == '__test_window__' -%}
            {{ return(relation) }}
        {%- endif -%}
        {%- set where = where | replace('__test_window__', window or 'true') -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}


{#
    The large staging and intermediate models, each with the column a test window filters on
    (a settlement day, or a UTC timestamp where the model has no settlement day on every row).
    Filters on these reach the raw table's scan through the staging views (no window function
    sits above them since issue 21 item 1).
#}
{% macro test_window_columns() -%}
    {{ return({
        'stg_bmrs__boalf': 'settlement_date',
        'stg_bmrs__bod': 'settlement_date',
        'stg_bmrs__mils': 'settlement_date',
        'stg_bmrs__mels': 'settlement_date',
        'stg_bmrs__pn': 'settlement_date',
        'stg_bmrs__fuelinst': 'settlement_date',
        'stg_bmrs__freq': 'measurement_time_utc',
        'int_boalf_segments_split_by_period': 'settlement_date',
        'int_boalf_instructed_profile_resolved': 'settlement_date',
        'int_acceptance_volumes_flagged': 'settlement_date',
        'int_generation_mix_with_emission_factors': 'interval_start_utc',
        'int_carbon_intensity_by_interval_summed': 'interval_start_utc',
    }) }}
{%- endmacro %}


{#
    `column >= start` for the model the current test reads, or none when the test checks
    everything: no var `test_window_start`, or a model that is not large.
#}
{% macro test_window_predicate() -%}
    {%- set start = var('test_window_start', none) -%}
    {%- if not execute or not start -%}{{ return(none) }}{%- endif -%}
    {%- set column = test_window_column(graph.nodes.get(model.get('attached_node') or '')) -%}
    {%- if column is none -%}{{ return(none) }}{%- endif -%}
    {%- set day = modules.datetime.date.fromisoformat((start | string)[:10]).isoformat() -%}
    {%- set type = 'timestamp' if column.endswith('_utc') else 'date' -%}
    {{ return(column ~ " >= cast('" ~ day ~ "' as " ~ type ~ ")") }}
{%- endmacro %}


{# The window column of a model node (none: tested whole). #}
{% macro test_window_column(node) -%}
    {%- if node is none or node.get('resource_type') != 'model' -%}{{ return(none) }}{%- endif -%}
    {%- set listed = test_window_columns().get(node.name) -%}
    {%- if listed -%}{{ return(listed) }}{%- endif -%}
    {%- if node.config.materialized == 'incremental' -%}
        {{ return(node.config.meta.get('partition_field')) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
