-- NESO historic demand per settlement period, with the period's UTC start. Demand and flows in
-- MW as published: ND national demand, TSD transmission system demand, interconnector flows
-- positive into GB.
with

source as (

    select * from {{ source_or_empty('neso', 'historic_demand', [
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('nd', 'integer'),
        ('tsd', 'integer'),
        ('england_wales_demand', 'integer'),
        ('embedded_wind_generation', 'integer'),
        ('embedded_wind_capacity', 'integer'),
        ('embedded_solar_generation', 'integer'),
        ('embedded_solar_capacity', 'integer'),
        ('non_bm_stor', 'integer'),
        ('pump_storage_pumping', 'integer'),
        ('scottish_transfer', 'integer'),
        ('ifa_flow', 'integer'),
        ('ifa2_flow', 'integer'),
        ('britned_flow', 'integer'),
        ('moyle_flow', 'integer'),
        ('east_west_flow', 'integer'),
        ('nemo_flow', 'integer'),
        ('nsl_flow', 'integer'),
        ('eleclink_flow', 'integer'),
        ('viking_flow', 'integer'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp'),
        ('_resource_id', 'string'),
        ('_resource_modified', 'timestamp')
    ]) }}

),

renamed as (

    select
        settlement_date,
        cast(settlement_period as {{ dbt.type_int() }}) as settlement_period,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        nd as national_demand_mw,
        tsd as transmission_system_demand_mw,
        england_wales_demand as england_wales_demand_mw,
        embedded_wind_generation as embedded_wind_generation_mw,
        embedded_wind_capacity as embedded_wind_capacity_mw,
        embedded_solar_generation as embedded_solar_generation_mw,
        embedded_solar_capacity as embedded_solar_capacity_mw,
        non_bm_stor as non_bm_stor_mw,
        pump_storage_pumping as pump_storage_pumping_mw,
        scottish_transfer as scottish_transfer_mw,
        ifa_flow as ifa_flow_mw,
        ifa2_flow as ifa2_flow_mw,
        britned_flow as britned_flow_mw,
        moyle_flow as moyle_flow_mw,
        east_west_flow as east_west_flow_mw,
        nemo_flow as nemo_flow_mw,
        nsl_flow as nsl_flow_mw,
        eleclink_flow as eleclink_flow_mw,
        viking_flow as viking_flow_mw,
        _resource_id as resource_id,
        {{ utc_timestamp('_resource_modified') }} as resource_modified_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

{{ latest_per_key('renamed', '_natural_key', 'loaded_at_utc desc') }}
