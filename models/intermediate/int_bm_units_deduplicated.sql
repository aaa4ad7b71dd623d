-- One registry row per National Grid BM unit. The registry lists a few units twice (WLNYO-4
-- under two EICs, one malformed); the row kept has an Elexon id, then a well-formed EIC (not
-- ending in '-'), then the latest load, then the lowest EIC, so the choice is deterministic.
with

units as (

    select * from {{ ref('stg_bmrs__bmunits') }}
    where national_grid_bm_unit is not null

),

ranked as (

    select
        *,
        row_number() over (
            partition by national_grid_bm_unit
            order by
                case when elexon_bm_unit is null then 1 else 0 end asc,
                case when eic is null or eic like '%-' then 1 else 0 end asc,
                loaded_at_utc desc,
                eic asc
        ) as unit_rank
    from units

)

select {{ star_except('unit_rank') }}
from ranked
where unit_rank = 1
