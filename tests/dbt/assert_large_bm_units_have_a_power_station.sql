-- Registry BM units of 50 MW or more (generation or demand) that no Power Station Dictionary plant
-- lists. Severity warn, not error: the dictionary stops around 2021, so newer large units (many
-- batteries, new wind farms) are expected here; each is of unknown plant, and the list is the
-- to-do for whoever refreshes the seeds (python -m loaders.reference.power_station_seed), not a
-- broken build. Interconnectors and NESO-only rows are left out: they are not plants.
{{ config(severity='warn') }}

select
    national_grid_bm_unit,
    elexon_bm_unit,
    bm_unit_name,
    fuel_type,
    generation_capacity_mw,
    demand_capacity_mw
from {{ ref('dim_bm_unit') }}
where
    power_station_match = 'unknown'
    and greatest(generation_capacity_mw, abs(demand_capacity_mw)) >= 50
    and coalesce(bm_unit_type, '') <> 'I'
    and coalesce(fuel_type, '') not like 'INT%'
