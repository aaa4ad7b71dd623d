{#
    The GSP group a BM unit id encodes, as a fallback when the registry gives none: supplier
    (2__), secondary (C__) and virtual lead party (V__) units carry the group letter fourth,
    e.g. 2__AECOT003 -> _A. Transmission and embedded units (T_, E_) carry no group.
#}
{% macro gsp_group_from_bm_unit_id(column) -%}
    case
        when substr({{ column }}, 1, 3) in ('2__', 'C__', 'V__')
            and substr({{ column }}, 4, 1) in ('A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P')
            then concat('_', substr({{ column }}, 4, 1))
    end
{%- endmacro %}


{# The median of a numeric expression over a group (DuckDB median, BigQuery approx quantiles). #}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    median({{ expression }})
{%- endmacro %}

{% macro bigquery__median(expression) -%}
    approx_quantiles({{ expression }}, 2)[offset(1)]
{%- endmacro %}


{# The hour of day (0-23) of a UTC timestamp in UK local time. #}
{% macro uk_local_hour(utc_ts) -%}
    {{ return(adapter.dispatch('uk_local_hour')(utc_ts)) }}
{%- endmacro %}

{% macro default__uk_local_hour(utc_ts) -%}
    extract(hour from timezone('Europe/London', timezone('UTC', {{ utc_ts }})))
{%- endmacro %}

{% macro bigquery__uk_local_hour(utc_ts) -%}
    extract(hour from {{ utc_ts }} at time zone 'Europe/London')
{%- endmacro %}


{#
    Per unit, the first phrase of one bm_unit_classification_keywords list that `column` holds
    (lower-cased; `anywhere=false` matches the phrase as a prefix only, as for fuel types).
#}
{% macro keyword_matches(units, keywords, list_name, column, anywhere=true) -%}
    select
        {{ units }}.national_grid_bm_unit,
        min({{ keywords }}.phrase) as matched_phrase
    from {{ units }}
    inner join {{ keywords }}
        on
            {{ keywords }}.list_name = '{{ list_name }}'
            and lower({{ units }}.{{ column }}) like concat({{ "'%', " if anywhere }}{{ keywords }}.phrase, '%')
    group by {{ units }}.national_grid_bm_unit
{%- endmacro %}


{# "generation / demand MW" of a unit, for evidence text. #}
{% macro capacity_pair(relation) -%}
    concat(
        cast({{ relation }}.generation_capacity_mw as {{ dbt.type_string() }}), ' / ',
        cast({{ relation }}.demand_capacity_mw as {{ dbt.type_string() }}), ' MW'
    )
{%- endmacro %}
