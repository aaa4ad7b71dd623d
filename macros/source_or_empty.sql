{#-
    A raw table, or an empty relation with the same typed columns when nothing has been loaded
    into it yet, so `dbt build` works on a warehouse holding only some datasets.
    `columns` is a list of (column, logical type) pairs from the loader's catalogue.
-#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set found = relation -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- endif -%}
    {%- if found is not none -%}
        {{ relation }}
    {%- else -%}
        (
            select
            {%- for name, logical in columns %}
                cast(null as {{ raw_type(logical) }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
            {%- endfor %}
            from (select 1 as one) as nothing_loaded_yet
            where 1 = 0
        )
    {%- endif -%}
{%- endmacro %}


{# Keep the latest row per key: the window rank is computed, filtered, and dropped. #}
{% macro latest_per_key(relation, key, order_by) -%}
    select {{ star_except('_latest_rank') }}
    from (
        select
            *,
            row_number() over (partition by {{ key }} order by {{ order_by }}) as _latest_rank
        from {{ relation }}
    ) as ranked
    where _latest_rank = 1
{%- endmacro %}


{# The columns every raw table carries (CONTRACTS.md), as (column, logical type) pairs to append
    to a source_or_empty column list. #}
{% macro raw_standard_columns() -%}
    {{ return([
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}
{%- endmacro %}


{# The standard raw columns as staging models expose them. #}
{% macro staged_standard_columns() -%}
    _natural_key,
    _record_hash,
    _source,
    {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
{%- endmacro %}
