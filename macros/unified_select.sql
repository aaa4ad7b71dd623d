{#-
    Portals publish one kind of dataset under different column names. `unified_select` maps a
    raw table's columns onto one shape: each canonical column is the first of its candidate raw
    columns that exists (several present: the first non-null), cast to its type; a canonical column
    none of the candidates provide is null. Raw DNO/NESO columns land as text, so casts are safe
    casts: a value that does not parse becomes null here and stays visible, as text, in raw.

    columns: list of (canonical name, type, [candidate raw columns]); type is one of number,
    integer, string, date, timestamp (read as an instant, returned as a UTC timestamp).
    keep: raw columns carried through as they are (e.g. the `dno`).
-#}
{% macro unified_select(source_name, table_name, columns, keep=[]) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set existing = [] -%}
    {%- set found = none -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
        {%- if found is not none -%}
            {%- for column in adapter.get_columns_in_relation(found) -%}
                {%- do existing.append(column.name | lower) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    select
    {%- for name in keep %}
        {% if name in existing %}{{ adapter.quote(name) }}{% else %}cast(null as {{ dbt.type_string() }}){% endif %} as {{ name }},
    {%- endfor %}
    {%- for canonical, kind, candidates in columns %}
        {%- set present = [] -%}
        {%- for candidate in candidates if candidate in existing -%}
            {%- do present.append(candidate) -%}
        {%- endfor %}
        {{ unified_value(present, kind) }} as {{ canonical }},
    {%- endfor %}
        {% if '_source' in existing %}_source{% else %}cast(null as {{ dbt.type_string() }}){% endif %} as _source,
        {% if '_record_hash' in existing %}_record_hash{% else %}cast(null as {{ dbt.type_bigint() }}){% endif %} as _record_hash,
        {% if '_natural_key' in existing %}_natural_key{% else %}cast(null as {{ dbt.type_string() }}){% endif %} as _natural_key,
        {% if '_loaded_at' in existing %}{{ utc_timestamp('_loaded_at') }}{% else %}cast(null as {{ dbt.type_timestamp() }}){% endif %} as loaded_at_utc
    from
    {%- if found is not none %} {{ relation }}
    {%- else %} (select 1 as nothing_loaded_yet) as empty_source where 1 = 0
    {%- endif %}
{%- endmacro %}


{% macro unified_value(present, kind) -%}
    {%- set types = {
        'number': type_double(), 'integer': dbt.type_bigint(), 'string': dbt.type_string(),
        'date': 'date', 'timestamp': type_timestamptz()} -%}
    {%- if not present -%}
        cast(null as {{ dbt.type_timestamp() if kind == 'timestamp' else types[kind] }})
    {%- else -%}
        {%- set casts = [] -%}
        {%- for column in present -%}
            {%- if kind == 'string' -%}
                {%- do casts.append('cast(' ~ adapter.quote(column) ~ ' as ' ~ types[kind] ~ ')') -%}
            {%- else -%}
                {%- do casts.append(dbt.safe_cast(adapter.quote(column), types[kind])) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set value = casts[0] if casts | length == 1 else 'coalesce(' ~ casts | join(', ') ~ ')' -%}
        {%- if kind == 'timestamp' -%}{{ utc_timestamp(value) }}{%- else -%}{{ value }}{%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#-
    A raw table whose columns are not declared (a dataset landed as published, all text): every
    column it has, plus loaded_at_utc; an empty relation with the standard columns when nothing
    has been loaded yet.
-#}
{% macro passthrough_select(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set columns = [] -%}
    {%- set found = none -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
        {%- if found is not none -%}
            {%- for column in adapter.get_columns_in_relation(found) -%}
                {%- if column.name not in ('_loaded_at', '_dlt_load_id', '_dlt_id') -%}
                    {%- do columns.append(adapter.quote(column.name)) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {%- if found is not none %}
    select {{ columns | join(', ') }}, {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from {{ relation }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as _source,
        cast(null as {{ dbt.type_bigint() }}) as _record_hash,
        cast(null as {{ dbt.type_string() }}) as _natural_key,
        cast(null as {{ dbt.type_timestamp() }}) as loaded_at_utc
    from (select 1 as nothing_loaded_yet) as empty_source
    where 1 = 0
    {%- endif %}
{%- endmacro %}
