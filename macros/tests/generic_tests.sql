{# Fails for rows where the column is outside [min_value, max_value] (nulls pass). #}
{% test values_between(model, column_name, min_value, max_value) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}


{# Fails for each combination of `columns` that occurs more than once. #}
{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}


{# Fails for rows where `expression` is not true. #}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}


{#
    Fails for each settlement day whose periods are not exactly 1..N, where N is that day's
    number of periods (46 on the spring clock change, 50 in autumn, else 48) — computed from
    the day's local midnights, not assumed.
#}
{% test complete_settlement_days(model, date_column, period_column) %}
    with days as (
        select
            {{ date_column }} as settlement_date,
            count(distinct {{ period_column }}) as periods,
            min({{ period_column }}) as first_period,
            max({{ period_column }}) as last_period
        from {{ model }}
        group by 1
    ),

    expected as (
        select
            *,
            cast(round(({{ epoch_seconds(settlement_period_start_utc(
                'cast(' ~ dbt.dateadd('day', 1, 'settlement_date') ~ ' as date)', 1)) }}
                - {{ epoch_seconds(settlement_period_start_utc('settlement_date', 1)) }}) / 1800) as {{ dbt.type_int() }})
                as expected_periods
        from days
    )

    select *
    from expected
    where periods != expected_periods or first_period != 1 or last_period != expected_periods
{% endtest %}
