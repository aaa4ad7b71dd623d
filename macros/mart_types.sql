{#
    Every whole number in a mart is BIGINT (BigQuery's INT64), whatever SQL produced it: DuckDB's
    sum() of integers is HUGEINT (int128), which many BI drivers cannot read, and a period cast to
    INTEGER in one staging model but BIGINT in another would give one column name two types.
    Runs as every mart's post-hook (dbt_project.yml), so a model's SQL need not remember to cast;
    assert_mart_column_types (tests/dbt) checks the result. Widening never loses a value; a
    HUGEINT count beyond BIGINT's range would fail the build rather than wrap.
    Floats are not handled here: a 32-bit FLOAT has already lost digits, so they are fixed at
    the source (type_double()) and the test rejects any that remain.
#}
{% macro widen_integer_columns(relation) -%}
    {{ return(adapter.dispatch('widen_integer_columns')(relation)) }}
{%- endmacro %}

{# BigQuery has a single integer type (INT64): nothing to widen. #}
{% macro default__widen_integer_columns(relation) -%}
{%- endmacro %}

{% macro duckdb__widen_integer_columns(relation) -%}
    {%- if execute -%}
        {%- set columns = adapter.get_columns_in_relation(relation) -%}
        {#- reading the columns opened a transaction that dbt would roll back after this hook
            (it runs outside the model's transaction): close it, so the ALTERs autocommit -#}
        {%- do adapter.commit() -%}
        {%- for column in columns if column.dtype | upper in narrow_or_huge_integer_types() -%}
            alter table {{ relation }} alter column {{ adapter.quote(column.name) }} set data type bigint;
        {% endfor -%}
    {%- endif -%}
{%- endmacro %}

{# DuckDB integer types that are not BIGINT (aliases as information_schema reports them). #}
{% macro narrow_or_huge_integer_types() -%}
    {{ return(['HUGEINT', 'UHUGEINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'UINTEGER',
               'USMALLINT', 'UTINYINT']) }}
{%- endmacro %}

{#
    sum() of a whole-number column (a count) as BIGINT / INT64 on every engine. DuckDB's sum() of
    integers is HUGEINT and the BigQuery emulator's NUMERIC; casting at the sum keeps a count
    column one integer type wherever it is built (assert_mart_column_types checks both).
#}
{% macro sum_as_bigint(expression) -%}
    cast(sum({{ expression }}) as {{ dbt.type_bigint() }})
{%- endmacro %}
