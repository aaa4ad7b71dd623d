-- Per dataset and settlement day: how many settlement periods should exist (46/48/50 on clock-
-- change days, from the day's local midnights), how many have rows, the gaps, rows, and the first
-- and last period present. Check it before trusting a chart. Datasets: every BMRS staging model
-- keyed by settlement date and period (listed by loaders/bmrs/dbtgen), and NESO historic demand.
{{ config(**partitioned_by_day('settlement_date', ['dataset'])) }}

{%- set neso = [('NESO historic_demand', 'stg_neso__historic_demand', 'settlement_period')] %}
{%- set datasets = settlement_datasets() + neso %}
with

per_day as (
    {% for dataset, model, period in datasets %}
        select
            '{{ dataset }}' as dataset,
            settlement_date,
            count(distinct {{ period }}) as present_periods,
            count(*) as row_count,
            min({{ period }}) as first_period,
            max({{ period }}) as last_period
        from {{ ref(model) }}
        where settlement_date is not null
        group by settlement_date
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

expected as (

    select
        *,
        cast(round((
            {{ epoch_seconds(settlement_period_start_utc(
            'cast(' ~ dbt.dateadd('day', 1, 'settlement_date') ~ ' as date)', 1)) }}
            - {{ epoch_seconds(settlement_period_start_utc('settlement_date', 1)) }}
        ) / 1800) as {{ dbt.type_int() }})
            as expected_periods
    from per_day

)

select
    dataset,
    settlement_date,
    expected_periods,
    present_periods,
    row_count,
    first_period,
    last_period,
    greatest(expected_periods - present_periods, 0) as missing_periods,
    present_periods >= expected_periods as is_complete,
    {{ settlement_period_start_utc('settlement_date', 'first_period') }} as first_period_start_utc,
    {{ settlement_period_start_utc('settlement_date', 'last_period') }} as last_period_start_utc
from expected
