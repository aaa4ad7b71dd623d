-- Per dataset and settlement day: the rows, distinct periods and distinct slots present, with the
-- catalogue's expected cardinality (per_period, per_5_minutes, per_day or events; see
-- loaders/sources/bmrs/hints.py). Datasets: every BMRS staging model keyed by settlement date and period
-- (listed by loaders/sources/bmrs/dbtgen), and NESO historic demand.
{%- set neso = [(
    'NESO historic_demand', 'stg_neso__historic_demand', 'settlement_period', 'settlement_period', 'per_period'
)] %}
{%- set datasets = settlement_datasets() + neso %}
with

per_day as (
    {% for dataset, model, period, slot, cardinality in datasets %}
        select
            '{{ dataset }}' as dataset,
            '{{ cardinality }}' as expected_cardinality,
            settlement_date,
            count(distinct {{ slot }}) as present_slots,
            count(distinct {{ period }}) as present_periods,
            count(*) as row_count,
            min({{ period }}) as first_period,
            max({{ period }}) as last_period
        from {{ ref(model) }}
        where settlement_date is not null
        group by settlement_date
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select
    dataset,
    expected_cardinality,
    settlement_date,
    cast(present_slots as {{ dbt.type_bigint() }}) as present_slots,
    cast(present_periods as {{ dbt.type_bigint() }}) as present_periods,
    cast(row_count as {{ dbt.type_bigint() }}) as row_count,
    cast(first_period as {{ dbt.type_bigint() }}) as first_period,
    cast(last_period as {{ dbt.type_bigint() }}) as last_period
from per_day
