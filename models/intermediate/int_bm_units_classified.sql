-- Every BM unit with its battery verdict (and the rule and evidence that decided it), its VLP
-- flags, and a GSP group: the registry's, else the one its id encodes (a documented fallback).
-- Rules, in order (the first that applies decides):
--   1. a registered fuel type in the not_battery_fuel list (wind, CCGT, pumped storage, ...)
--      -> not a battery, whoever operates it;
--   2. a battery keyword in the unit's name (battery_name list) -> battery;
--   3. a two-way unit (generation > 0 and |demand| >= battery_two_way_min_ratio x generation)
--      with no fuel type and a National Grid id in the battery pattern (...B-n) -> battery;
--   4. otherwise -> not a battery.
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

    select
        units.national_grid_bm_unit,
        min(classification_keywords.phrase) as matched_phrase
    from units
    inner join classification_keywords
        on
            classification_keywords.list_name = 'not_battery_fuel'
            and lower(units.fuel_type) like concat(classification_keywords.phrase, '%')
    group by units.national_grid_bm_unit

),

name_match as (

    select
        units.national_grid_bm_unit,
        min(classification_keywords.phrase) as matched_phrase
    from units
    inner join classification_keywords
        on
            classification_keywords.list_name = 'battery_name'
            and lower(units.bm_unit_name) like concat('%', classification_keywords.phrase, '%')
    group by units.national_grid_bm_unit

),

vlp_name as (

    select
        units.national_grid_bm_unit,
        min(classification_keywords.phrase) as matched_phrase
    from units
    inner join classification_keywords
        on
            classification_keywords.list_name = 'vlp_lead_party'
            and lower(units.lead_party_name) like concat('%', classification_keywords.phrase, '%')
    group by units.national_grid_bm_unit

),

judged as (

    select
        units.*,
        fuel_exclusion.matched_phrase as excluded_by_fuel,
        name_match.matched_phrase as battery_keyword,
        vlp_name.matched_phrase as vlp_keyword,
        coalesce(units.generation_capacity_mw, 0) > 0
        and abs(coalesce(units.demand_capacity_mw, 0))
        >= {{ var('battery_two_way_min_ratio') }} * units.generation_capacity_mw as is_two_way,
        units.national_grid_bm_unit like '%B-_' as has_battery_id_pattern
    from units
    left join fuel_exclusion on units.national_grid_bm_unit = fuel_exclusion.national_grid_bm_unit
    left join name_match on units.national_grid_bm_unit = name_match.national_grid_bm_unit
    left join vlp_name on units.national_grid_bm_unit = vlp_name.national_grid_bm_unit

),

verdicts as (

    select
        *,
        case
            when excluded_by_fuel is not null then 'not_battery_fuel'
            when battery_keyword is not null then 'battery_name'
            when fuel_type is null and is_two_way and has_battery_id_pattern then 'two_way_battery_id'
            else 'no_battery_evidence'
        end as battery_rule
    from judged

),

portfolios as (

    select
        lead_party_name,
        count(*) as battery_units
    from verdicts
    where battery_rule in ('battery_name', 'two_way_battery_id')
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
    coalesce(verdicts.gsp_group_id, {{ gsp_group_from_bm_unit_id('verdicts.elexon_bm_unit') }}) as gsp_group_id,
    case
        when verdicts.gsp_group_id is not null then 'registry'
        when {{ gsp_group_from_bm_unit_id('verdicts.elexon_bm_unit') }} is not null then 'bm_unit_id_fallback'
    end as gsp_group_source,
    verdicts.gsp_group_name as registry_gsp_group_name,
    verdicts.battery_rule in ('battery_name', 'two_way_battery_id') as is_battery,
    verdicts.battery_rule,
    case verdicts.battery_rule
        when 'not_battery_fuel' then concat('registered fuel type ', verdicts.fuel_type)
        when 'battery_name' then concat('name "', verdicts.bm_unit_name, '" contains "', verdicts.battery_keyword, '"')
        when 'two_way_battery_id'
            then concat(
                    'no fuel type; two-way capacity ', cast(verdicts.generation_capacity_mw as {{ dbt.type_string() }}),
                    ' / ', cast(verdicts.demand_capacity_mw as {{ dbt.type_string() }}),
                    ' MW; id ', verdicts.national_grid_bm_unit
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
