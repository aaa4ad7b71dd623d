-- Every BM unit with its battery verdict (and the rule and evidence that decided it), its VLP
-- flags, and a GSP group: the registry's, else its power station's (the group of the GSP nearest
-- the plant, int_power_stations_located_to_gsp), else the one its id encodes; gsp_group_source
-- says which (registry / location / id letter).
-- Rules, in order (the first that applies decides); keyword lists are the
-- bm_unit_classification_keywords seed:
--   1. a registered fuel type in the not_battery_fuel list (wind, CCGT, pumped storage, ...)
--      -> not a battery, whoever operates it;
--   2. a not_battery_name phrase in the name (flywheel, synchronous compensator, greener grid,
--      pumped storage) -> not a battery: these store or steady energy without being batteries;
--   3. a battery_name phrase in the name (battery, BESS) -> battery;
--   4. fuel OTHER or none, two-way symmetric capacity (generation and |demand| both > 0, the
--      smaller at least battery_two_way_min_ratio of the larger) and a storage-style id (...B-n)
--      or a storage_name phrase in the name -> battery. Batteries register with fuel OTHER as
--      often as with none (Richborough, Blackhillock, Capenhurst, Coventry);
--   5. a storage_name phrase without rule 4's capacity -> not a battery: "storage" alone also
--      names flywheel and synchronous-compensator parks (Statkraft's Keith, Lister Drive), which
--      import a little and export almost nothing;
--   6. otherwise -> not a battery.
-- VLP: the unit's own id is a virtual lead party unit (V__...), or its lead party's name holds a
-- vlp_lead_party keyword, or its lead party runs a portfolio of >= vlp_portfolio_min_batteries
-- batteries; is_vlp is any of the three.
with

units as (

    select * from {{ ref('int_bm_units_deduplicated') }}

),

classification_keywords as (

    select
        list_name,
        lower(phrase) as phrase
    from {{ ref('bm_unit_classification_keywords') }}

),

fuel_exclusion as (

    {{ keyword_matches('units', 'classification_keywords', 'not_battery_fuel', 'fuel_type', anywhere=false) }}

),

technology_exclusion as (

    {{ keyword_matches('units', 'classification_keywords', 'not_battery_name', 'bm_unit_name') }}

),

name_match as (

    {{ keyword_matches('units', 'classification_keywords', 'battery_name', 'bm_unit_name') }}

),

storage_name_match as (

    {{ keyword_matches('units', 'classification_keywords', 'storage_name', 'bm_unit_name') }}

),

vlp_name as (

    {{ keyword_matches('units', 'classification_keywords', 'vlp_lead_party', 'lead_party_name') }}

),

capacities as (

    select
        *,
        coalesce(generation_capacity_mw, 0) as export_mw,
        abs(coalesce(demand_capacity_mw, 0)) as import_mw
    from units

),

judged as (

    select
        capacities.*,
        fuel_exclusion.matched_phrase as excluded_by_fuel,
        technology_exclusion.matched_phrase as excluded_by_name,
        name_match.matched_phrase as battery_keyword,
        storage_name_match.matched_phrase as storage_keyword,
        vlp_name.matched_phrase as vlp_keyword,
        coalesce(upper(nullif(capacities.fuel_type, '')), 'OTHER') = 'OTHER' as has_no_specific_fuel,
        capacities.export_mw > 0
        and capacities.import_mw > 0
        and least(capacities.export_mw, capacities.import_mw)
        >= {{ var('battery_two_way_min_ratio') }} * greatest(capacities.export_mw, capacities.import_mw)
            as is_symmetric_two_way,
        -- storage-style National Grid ids end in B-n or B-nn (RICHB-1, WBURB-41)
        capacities.national_grid_bm_unit like '%B-_'
        or capacities.national_grid_bm_unit like '%B-__' as has_battery_id_pattern
    from capacities
    left join fuel_exclusion on capacities.national_grid_bm_unit = fuel_exclusion.national_grid_bm_unit
    left join technology_exclusion on capacities.national_grid_bm_unit = technology_exclusion.national_grid_bm_unit
    left join name_match on capacities.national_grid_bm_unit = name_match.national_grid_bm_unit
    left join storage_name_match on capacities.national_grid_bm_unit = storage_name_match.national_grid_bm_unit
    left join vlp_name on capacities.national_grid_bm_unit = vlp_name.national_grid_bm_unit

),

verdicts as (

    select
        *,
        case
            when excluded_by_fuel is not null then 'not_battery_fuel'
            when excluded_by_name is not null then 'not_battery_technology'
            when battery_keyword is not null then 'battery_name'
            when
                has_no_specific_fuel and is_symmetric_two_way
                and (has_battery_id_pattern or storage_keyword is not null)
                then 'two_way_storage'
            when storage_keyword is not null then 'storage_name_not_two_way'
            else 'no_battery_evidence'
        end as battery_rule
    from judged

),

portfolios as (

    select
        lead_party_name,
        count(*) as battery_units
    from verdicts
    where battery_rule in ('battery_name', 'two_way_storage')
    group by lead_party_name

)

select
    verdicts.national_grid_bm_unit,
    verdicts.elexon_bm_unit,
    verdicts.eic,
    verdicts.bm_unit_name,
    verdicts.bm_unit_type,
    verdicts.fuel_type,
    verdicts.lead_party_name,
    verdicts.lead_party_id,
    greatest(coalesce(verdicts.generation_capacity_mw, 0), 0) as generation_capacity_mw,
    least(coalesce(verdicts.demand_capacity_mw, 0), 0) as demand_capacity_mw,
    coalesce(
        verdicts.gsp_group_id,
        plant_location.nearest_gsp_group_id,
        {{ gsp_group_from_bm_unit_id('verdicts.elexon_bm_unit') }}
    ) as gsp_group_id,
    case
        when verdicts.gsp_group_id is not null then 'registry'
        when plant_location.nearest_gsp_group_id is not null then 'location'
        when {{ gsp_group_from_bm_unit_id('verdicts.elexon_bm_unit') }} is not null then 'id letter'
    end as gsp_group_source,
    verdicts.gsp_group_name as registry_gsp_group_name,
    verdicts.battery_rule in ('battery_name', 'two_way_storage') as is_battery,
    verdicts.battery_rule,
    case verdicts.battery_rule
        when 'not_battery_fuel' then concat('registered fuel type ', verdicts.fuel_type)
        when 'not_battery_technology'
            then concat('name "', verdicts.bm_unit_name, '" contains "', verdicts.excluded_by_name, '"')
        when 'battery_name' then concat('name "', verdicts.bm_unit_name, '" contains "', verdicts.battery_keyword, '"')
        when 'two_way_storage'
            then concat(
                    'fuel ', coalesce(verdicts.fuel_type, 'none'), '; two-way capacity ',
                    {{ capacity_pair('verdicts') }},
                    case
                        when verdicts.has_battery_id_pattern
                            then concat('; storage-style id ', verdicts.national_grid_bm_unit)
                        else concat('; name "', verdicts.bm_unit_name, '" contains "', verdicts.storage_keyword, '"')
                    end
                )
        when 'storage_name_not_two_way'
            then concat(
                    'name "', verdicts.bm_unit_name, '" contains "', verdicts.storage_keyword,
                    '" but fuel ', coalesce(verdicts.fuel_type, 'none'), ' and capacity ',
                    {{ capacity_pair('verdicts') }}, ' are not a two-way store'
                )
        else 'no fuel type, name or capacity evidence of a battery'
    end as battery_evidence,
    coalesce(substr(verdicts.elexon_bm_unit, 1, 3) = 'V__' or verdicts.bm_unit_type = 'V', false)
        as is_aggregator_code,
    verdicts.vlp_keyword is not null as is_vlp_by_name,
    coalesce(portfolios.battery_units, 0) >= {{ var('vlp_portfolio_min_batteries') }} as multiple_assets,
    verdicts.vlp_keyword,
    coalesce(portfolios.battery_units, 0) as lead_party_battery_units
from verdicts
left join portfolios on verdicts.lead_party_name = portfolios.lead_party_name
left join {{ ref('int_bm_units_matched_to_power_stations') }} as plant_match
    on verdicts.national_grid_bm_unit = plant_match.national_grid_bm_unit
left join {{ ref('int_power_stations_located_to_gsp') }} as plant_location
    on plant_match.power_station_id = plant_location.power_station_id
