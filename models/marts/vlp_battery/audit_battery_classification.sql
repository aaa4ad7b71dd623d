-- Every BM unit's battery and VLP verdicts with the rule that decided each and its evidence,
-- for checking the classification unit by unit.
select
    national_grid_bm_unit,
    elexon_bm_unit,
    bm_unit_name,
    fuel_type,
    lead_party_name,
    generation_capacity_mw,
    demand_capacity_mw,
    is_battery,
    battery_rule,
    battery_evidence,
    is_aggregator_code,
    is_vlp_by_name,
    vlp_keyword,
    multiple_assets,
    lead_party_battery_units,
    is_aggregator_code or is_vlp_by_name or multiple_assets as is_vlp
from {{ ref('int_bm_units_classified') }}
