{#
    Incremental marts by settlement day. Each build recomputes every settlement day from
    `incremental_lookback_days` before the latest day in the mart's table and replaces those days
    whole, so a row that disappears from a recomputed day (a superseded acceptance) disappears
    from the mart too, and `--full-refresh` gives the same table:
      - BigQuery: insert_overwrite on the day partitions (dbt-bigquery's partition-pruned MERGE,
        which deletes and inserts only the partitions the new rows fall in);
      - DuckDB: delete+insert keyed on the day (every row of a recomputed day is replaced).
    A mart whose days are recomputed per key (each key with its own window: `unique_key`, e.g.
    ['dataset', 'settlement_date']) replaces (key, day) rows instead: a MERGE on BigQuery.
    Use in a config:
        {{ config(**incremental_by_day('settlement_date', ['national_grid_bm_unit'])) }}
#}
{% macro incremental_by_day(field='settlement_date', cluster=[], unique_key=none) -%}
    {%- set settings = partitioned_by_day(field, cluster) -%}
    {%- do settings.update({'materialized': 'incremental', 'on_schema_change': 'append_new_columns'}) -%}
    {%- if unique_key is not none -%}
        {%- do settings.update({
            'incremental_strategy': 'merge' if target.type == 'bigquery' else 'delete+insert',
            'unique_key': unique_key}) -%}
    {%- elif target.type == 'bigquery' -%}
        {%- do settings.update({'incremental_strategy': 'insert_overwrite'}) -%}
    {%- else -%}
        {%- do settings.update({'incremental_strategy': 'delete+insert', 'unique_key': field}) -%}
    {%- endif -%}
    {{ return(settings) }}
{%- endmacro %}


{#
    The first day an incremental build recomputes, as an ISO date string, or none on a first
    build or a --full-refresh (everything is computed). It is read from the mart's table before
    the build, so the filters it feeds are constants: DuckDB pushes them into the raw tables'
    scans and BigQuery prunes partitions with them (a filter on a subquery does neither).
#}
{% macro incremental_window_start(field='settlement_date', lookback_days=none) -%}
    {#- unit tests have no table of their own: they always build everything -#}
    {%- if not execute or this is none or model.resource_type == 'unit_test' or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set days = var('incremental_lookback_days') if lookback_days is none else lookback_days -%}
    {%- set latest = run_query(
        'select cast(' ~ dbt.dateadd('day', -days, 'max(' ~ field ~ ')') ~ ' as date) from ' ~ this
    ) -%}
    {%- set start = latest.columns[0].values()[0] -%}
    {{ return(none if start is none else earlier_rebuild(start | string)) }}
{%- endmacro %}


{#
    `start`, or the var `rebuild_from` when that is earlier: the earliest settlement day loaded
    since the last build (`gridwarehouse build` and `run` pass it, from ops.load_log), so days
    backfilled before the lookback are recomputed too instead of missing from the mart.
#}
{% macro earlier_rebuild(start) -%}
    {%- set rebuild = var('rebuild_from', none) -%}
    {%- if rebuild and (rebuild | string)[:10] < start[:10] -%}
        {{ return((rebuild | string)[:10]) }}
    {%- endif -%}
    {{ return(start) }}
{%- endmacro %}


{#
    incremental_window_start per value of `key` (a dict: value -> ISO date), for a mart whose keys
    run on different calendars (the completeness mart's datasets); none on a full build. A key not
    in the table yet has no entry: all its days are computed.
#}
{% macro incremental_window_starts(key, field='settlement_date', lookback_days=none) -%}
    {%- if not execute or this is none or model.resource_type == 'unit_test' or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set days = var('incremental_lookback_days') if lookback_days is none else lookback_days -%}
    {%- set latest = run_query(
        'select ' ~ key ~ ', cast(' ~ dbt.dateadd('day', -days, 'max(' ~ field ~ ')') ~ ' as date) from '
        ~ this ~ ' group by 1'
    ) -%}
    {%- set starts = {} -%}
    {%- for row in latest.rows -%}
        {%- do starts.update({row[0]: earlier_rebuild(row[1] | string)}) -%}
    {%- endfor -%}
    {{ return(starts) }}
{%- endmacro %}


{# `column >= ` the window start of the row's `key` (none or {}: `true`). #}
{% macro on_or_after_per_key(column, key, starts) -%}
    {%- if not starts -%}
        true
    {%- else -%}
        {{ column }} >= case {{ key }}
            {%- for value, start in starts.items() %}
            when '{{ value }}' then cast('{{ start }}' as date)
            {%- endfor %}
            else cast('0001-01-01' as date)
        end
    {%- endif -%}
{%- endmacro %}


{# `start` minus `days` days, as an ISO date string (none stays none). #}
{% macro days_before(start, days) -%}
    {%- if start is none -%}{{ return(none) }}{%- endif -%}
    {%- set day = modules.datetime.date.fromisoformat(start[:10]) - modules.datetime.timedelta(days=days) -%}
    {{ return(day.isoformat()) }}
{%- endmacro %}


{# `column >= start` as a date comparison, or `true` when there is no window (a full build). #}
{% macro on_or_after(column, start) -%}
    {%- if start is none -%}
        true
    {%- else -%}
        {{ column }} >= cast('{{ start }}' as date)
    {%- endif -%}
{%- endmacro %}


{#
    `start`, or the first settlement day before it whose NESO constraint costs in this mart's
    table differ from `neso_daily` (SQL with constraint_date and the four neso_*_cost_gbp
    columns) when that is earlier: NESO's constraint breakdown is loaded as a whole file, so a
    revision of an old day reaches the mart without a --full-refresh. None stays none.
#}
{% macro earliest_neso_revision(start, neso_daily) -%}
    {%- if start is none -%}{{ return(none) }}{%- endif -%}
    {%- set columns = ['neso_thermal_cost_gbp', 'neso_voltage_cost_gbp', 'neso_largest_loss_cost_gbp',
                       'neso_inertia_cost_gbp'] -%}
    {%- set differs -%}
        {%- for column in columns -%}
            {{ 'built.' ~ column }} is distinct from {{ 'loaded.' ~ column }}{{ ' or ' if not loop.last }}
        {%- endfor -%}
    {%- endset -%}
    {%- set earliest = run_query(
        'select cast(min(built.settlement_date) as ' ~ dbt.type_string() ~ ') from ' ~ this ~ ' as built'
        ~ ' left join (' ~ neso_daily ~ ') as loaded on built.settlement_date = loaded.constraint_date'
        ~ " where built.settlement_date < cast('" ~ start ~ "' as date) and (" ~ differs ~ ')'
    ).columns[0].values()[0] -%}
    {{ return(start if earliest is none or (earliest | string)[:10] >= start[:10] else (earliest | string)[:10]) }}
{%- endmacro %}
