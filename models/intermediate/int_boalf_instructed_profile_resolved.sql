-- A unit's instructed level over time, with overlapping acceptances resolved. In the Balancing
-- Mechanism each new Bid-Offer Acceptance replaces the unit's previous instruction from its start:
-- acceptance numbers k rise with acceptance time (BSC Section Q5.3.1(b)), and the level a unit must
-- run at at an instant t is the Acceptance Volume qAkij(t) of the latest acceptance k covering t
-- (BSC Section T3.4). So where acceptances overlap, only the highest-numbered one counts.
-- Each unit's time line is cut at every piece boundary (segment ends and settlement-period
-- boundaries); every interval between two cuts lies within one piece of each acceptance that
-- covers it, and takes the level of the highest-numbered one.
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
        {{ epoch_seconds('time_from_utc') }} as from_s,
        {{ epoch_seconds('time_to_utc') }} as to_s
    from {{ ref('int_boalf_segments_split_by_period') }}
    where time_to_utc > time_from_utc

),

cuts as (

    select distinct
        national_grid_bm_unit,
        at_s
    from (
        select
            national_grid_bm_unit,
            from_s as at_s
        from pieces
        union all
        select
            national_grid_bm_unit,
            to_s as at_s
        from pieces
    ) as piece_ends

),

intervals as (

    select
        national_grid_bm_unit,
        at_s as from_s,
        lead(at_s) over (partition by national_grid_bm_unit order by at_s) as to_s
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
            partition by intervals.national_grid_bm_unit, intervals.from_s
        ) as covering_acceptances,
        row_number() over (
            partition by intervals.national_grid_bm_unit, intervals.from_s
            order by pieces.acceptance_number desc, pieces.segment_key asc
        ) as latest_first
    from intervals
    inner join pieces
        on
            intervals.national_grid_bm_unit = pieces.national_grid_bm_unit
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
