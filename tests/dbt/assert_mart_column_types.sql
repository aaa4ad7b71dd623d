-- Every mart column as a BI tool and BigQuery see it: one type per column name across all marts,
-- and no type that loses digits or that drivers cannot read (32-bit FLOAT/REAL, HUGEINT, or an
-- integer narrower than BIGINT). Fails with one row per offending column. The depends_on lines
-- make dbt run this after every mart (test_mart_types.py checks the list covers them all).
-- depends_on: {{ ref('audit_battery_classification') }}
-- depends_on: {{ ref('bridge_bm_unit_power_station') }}
-- depends_on: {{ ref('dim_bm_unit') }}
-- depends_on: {{ ref('dim_power_station') }}
-- depends_on: {{ ref('fct_acceptances_by_unit_period') }}
-- depends_on: {{ ref('fct_actual_generation_per_type_by_period') }}
-- depends_on: {{ ref('fct_balancing_carbon_daily') }}
-- depends_on: {{ ref('fct_balancing_carbon_daily_by_region') }}
-- depends_on: {{ ref('fct_battery_daily_activity') }}
-- depends_on: {{ ref('fct_battery_fleet_stats') }}
-- depends_on: {{ ref('fct_carbon_intensity_5min') }}
-- depends_on: {{ ref('fct_carbon_intensity_by_period') }}
-- depends_on: {{ ref('fct_carbon_intensity_daily') }}
-- depends_on: {{ ref('fct_carbon_intensity_hourly') }}
-- depends_on: {{ ref('fct_constraint_actions_daily') }}
-- depends_on: {{ ref('fct_constraint_daily_by_region') }}
-- depends_on: {{ ref('fct_dataset_completeness_daily') }}
-- depends_on: {{ ref('fct_dno_balancing_correlation') }}
-- depends_on: {{ ref('fct_dno_balancing_daily') }}
-- depends_on: {{ ref('fct_frequency_by_period') }}
-- depends_on: {{ ref('fct_generation_mix_by_period') }}
-- depends_on: {{ ref('fct_imbalance_by_period') }}
-- depends_on: {{ ref('fct_imbalance_daily') }}
-- depends_on: {{ ref('fct_imbalance_hourly') }}
-- depends_on: {{ ref('fct_interconnector_flows_by_period') }}
-- depends_on: {{ ref('fct_isone_lmp_hourly') }}
-- depends_on: {{ ref('fct_isone_load_vs_generation_hourly') }}
-- depends_on: {{ ref('fct_regional_balancing_by_period') }}
-- depends_on: {{ ref('fct_regional_daily') }}
-- depends_on: {{ ref('fct_remit_unavailability_daily') }}
-- depends_on: {{ ref('fct_system_limits_by_period') }}
-- depends_on: {{ ref('fct_top_constrained_regions') }}
-- depends_on: {{ ref('fct_top_constrained_units') }}
-- depends_on: {{ ref('fct_unit_limits_by_period') }}
{%- set columns = [] %}
{%- if execute %}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.fqn[1] == 'marts' %}
        {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) %}
        {%- if relation is not none %}
            {%- for column in adapter.get_columns_in_relation(relation) %}
                {%- do columns.append((node.name, column.name | lower, column.dtype | upper)) %}
            {%- endfor %}
        {%- endif %}
    {%- endfor %}
{%- endif %}
{%- set unsafe = ['FLOAT', 'FLOAT4', 'REAL'] + narrow_or_huge_integer_types() %}
with

mart_columns as (

    {%- for model_name, column_name, data_type in columns %}
        select
            '{{ model_name }}' as model_name,
            '{{ column_name }}' as column_name,
            '{{ data_type }}' as data_type
        {% if not loop.last %}union all{% endif %}
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as model_name,
            cast(null as {{ dbt.type_string() }}) as column_name,
            cast(null as {{ dbt.type_string() }}) as data_type
        from (select 1 as placeholder) as no_marts_built
        where 1 = 0
    {%- endfor %}

),

unsafe_types as (

    {%- for data_type in unsafe %}
        select '{{ data_type }}' as data_type
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

names_with_several_types as (

    select column_name
    from mart_columns
    group by column_name
    having count(distinct data_type) > 1

)

select
    model_name,
    column_name,
    data_type,
    'this column name has other types in other marts' as problem
from mart_columns
where column_name in (select names_with_several_types.column_name from names_with_several_types)

union all

select
    model_name,
    column_name,
    data_type,
    'type loses digits or is unreadable for BI drivers' as problem
from mart_columns
where data_type in (select unsafe_types.data_type from unsafe_types)
