{#
    The BOALF computations that incremental marts run on a window of days and the intermediate
    views run on everything: written once here, so both give the same rows for the same days.
#}

{# int_boalf_instructed_profile_resolved over `pieces` (a relation or subquery of
   int_boalf_segments_split_by_period rows): every piece covering a period must be in `pieces`.
   Every piece lies within one settlement period (the split clips it there), so a unit's time line
   is cut and resolved per settlement period: the range join then compares a unit's pieces with
   the intervals of one period, not with every interval of its whole history (quadratic in it). #}
{% macro resolve_instructed_profile(pieces) -%}
with

pieces as (

    select
        national_grid_bm_unit,
        acceptance_number,
        segment_key,
        settlement_date,
        settlement_period,
        settlement_period_start_utc,
        level_from_mw,
        level_to_mw,
        is_so_flagged,
        is_stor,
        {{ epoch_seconds('settlement_period_start_utc') }} as slot_s,
        {{ epoch_seconds('time_from_utc') }} as from_s,
        {{ epoch_seconds('time_to_utc') }} as to_s
    from {{ pieces }}
    where time_to_utc > time_from_utc

),

cuts as (

    select distinct
        national_grid_bm_unit,
        slot_s,
        at_s
    from (
        select
            national_grid_bm_unit,
            slot_s,
            from_s as at_s
        from pieces
        union all
        select
            national_grid_bm_unit,
            slot_s,
            to_s as at_s
        from pieces
    ) as piece_ends

),

intervals as (

    select
        national_grid_bm_unit,
        slot_s,
        at_s as from_s,
        lead(at_s) over (partition by national_grid_bm_unit, slot_s order by at_s) as to_s
    from cuts

),

covering as (

    select
        intervals.national_grid_bm_unit,
        intervals.from_s,
        intervals.to_s,
        pieces.acceptance_number,
        pieces.settlement_date,
        pieces.settlement_period,
        pieces.settlement_period_start_utc,
        pieces.is_so_flagged,
        pieces.is_stor,
        pieces.level_from_mw
        + (pieces.level_to_mw - pieces.level_from_mw)
        * (intervals.from_s - pieces.from_s) / (pieces.to_s - pieces.from_s) as level_from_mw,
        pieces.level_from_mw
        + (pieces.level_to_mw - pieces.level_from_mw)
        * (intervals.to_s - pieces.from_s) / (pieces.to_s - pieces.from_s) as level_to_mw,
        count(*) over (
            partition by intervals.national_grid_bm_unit, intervals.slot_s, intervals.from_s
        ) as covering_acceptances,
        row_number() over (
            partition by intervals.national_grid_bm_unit, intervals.slot_s, intervals.from_s
            order by pieces.acceptance_number desc, pieces.segment_key asc
        ) as latest_first
    from intervals
    inner join pieces
        on
            intervals.national_grid_bm_unit = pieces.national_grid_bm_unit
            and intervals.slot_s = pieces.slot_s
            and intervals.from_s >= pieces.from_s
            and intervals.to_s <= pieces.to_s
    where intervals.to_s is not null

)

select
    national_grid_bm_unit,
    settlement_date,
    settlement_period,
    settlement_period_start_utc,
    {{ from_epoch_seconds('from_s') }} as time_from_utc,
    {{ from_epoch_seconds('to_s') }} as time_to_utc,
    cast(acceptance_number as {{ dbt.type_bigint() }}) as acceptance_number,
    cast(covering_acceptances as {{ dbt.type_bigint() }}) as covering_acceptances,
    cast(level_from_mw as {{ type_double() }}) as level_from_mw,
    cast(level_to_mw as {{ type_double() }}) as level_to_mw,
    cast((to_s - from_s) / 60.0 as {{ type_double() }}) as duration_minutes,
    cast((level_from_mw + level_to_mw) / 2 * (to_s - from_s) / 3600.0 as {{ type_double() }})
        as instructed_energy_mwh,
    is_so_flagged,
    is_stor
from covering
where latest_first = 1
{%- endmacro %}


{# int_acceptance_volumes_flagged for settlement dates from `since` (an ISO date; none: all). #}
{% macro acceptance_volumes_flagged(since=none) -%}
with

volumes as (

    {#- the refs spelled whole: loaders/sources/bmrs/dbtgen.py finds the staging models read by name #}
    {%- for side, volumes in [
        ('offer', ref('stg_bmrs__balancing_settlement_acceptance_volumes_all_offer')),
        ('bid', ref('stg_bmrs__balancing_settlement_acceptance_volumes_all_bid')),
    ] %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        '{{ side }}' as bid_offer,
        settlement_date,
        settlement_period,
        settlement_period_start_utc,
        national_grid_bm_unit,
        bm_unit,
        acceptance_id,
        total_volume_accepted
    from {{ volumes }}
    where {{ on_or_after('settlement_date', since) }}
    {%- endfor %}

),

acceptance_flags as (

    select
        national_grid_bm_unit,
        acceptance_number,
        max(case when is_so_flagged then 1 else 0 end) = 1 as is_so_flagged
    from {{ ref('stg_bmrs__boalf') }}
    -- an acceptance with a volume in a period on day D has a segment covering it, dated D-2 or
    -- later (segments span at most 96 periods); D-3 leaves a day's margin for clock changes
    where {{ on_or_after('settlement_date', days_before(since, 3)) }}
    group by 1, 2

)

select
    volumes.bid_offer,
    volumes.settlement_date,
    cast(volumes.settlement_period as {{ dbt.type_bigint() }}) as settlement_period,
    volumes.settlement_period_start_utc,
    volumes.national_grid_bm_unit,
    volumes.bm_unit,
    cast(volumes.acceptance_id as {{ dbt.type_bigint() }}) as acceptance_number,
    cast(volumes.total_volume_accepted as {{ type_double() }}) as accepted_volume_mwh,
    acceptance_flags.is_so_flagged
from volumes
left join acceptance_flags
    on
        volumes.national_grid_bm_unit = acceptance_flags.national_grid_bm_unit
        and volumes.acceptance_id = acceptance_flags.acceptance_number
{%- endmacro %}
