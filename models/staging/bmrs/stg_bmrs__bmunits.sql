-- The BM unit registry (/reference/bmunits/all). The API sends capacities and loss factors as
-- fixed-decimal text ("15.400"); they are cast here, and blank GSP groups become null.
with

source as (

    select * from {{ source_or_empty('bmrs', 'bmunits', [
        ('national_grid_bm_unit', 'string'),
        ('elexon_bm_unit', 'string'),
        ('eic', 'string'),
        ('fuel_type', 'string'),
        ('lead_party_name', 'string'),
        ('bm_unit_type', 'string'),
        ('fpn_flag', 'boolean'),
        ('bm_unit_name', 'string'),
        ('lead_party_id', 'string'),
        ('demand_capacity', 'string'),
        ('generation_capacity', 'string'),
        ('production_or_consumption_flag', 'string'),
        ('transmission_loss_factor', 'string'),
        ('working_day_credit_assessment_import_capability', 'string'),
        ('non_working_day_credit_assessment_import_capability', 'string'),
        ('working_day_credit_assessment_export_capability', 'string'),
        ('non_working_day_credit_assessment_export_capability', 'string'),
        ('credit_qualifying_status', 'boolean'),
        ('demand_in_production_flag', 'boolean'),
        ('gsp_group_id', 'string'),
        ('gsp_group_name', 'string'),
        ('interconnector_id', 'string'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        national_grid_bm_unit,
        elexon_bm_unit,
        eic,
        fuel_type,
        lead_party_name,
        lead_party_id,
        bm_unit_type,
        bm_unit_name,
        fpn_flag as is_fpn,
        {{ dbt.safe_cast('demand_capacity', type_double()) }} as demand_capacity_mw,
        {{ dbt.safe_cast('generation_capacity', type_double()) }} as generation_capacity_mw,
        production_or_consumption_flag,
        {{ dbt.safe_cast('transmission_loss_factor', type_double()) }} as transmission_loss_factor,
        {{ dbt.safe_cast('working_day_credit_assessment_import_capability', type_double()) }}
            as working_day_import_capability_mw,
        {{ dbt.safe_cast('non_working_day_credit_assessment_import_capability', type_double()) }}
            as non_working_day_import_capability_mw,
        {{ dbt.safe_cast('working_day_credit_assessment_export_capability', type_double()) }}
            as working_day_export_capability_mw,
        {{ dbt.safe_cast('non_working_day_credit_assessment_export_capability', type_double()) }}
            as non_working_day_export_capability_mw,
        credit_qualifying_status as is_credit_qualifying,
        demand_in_production_flag as is_demand_in_production,
        nullif(trim(gsp_group_id), '') as gsp_group_id,
        nullif(trim(gsp_group_name), '') as gsp_group_name,
        nullif(trim(interconnector_id), '') as interconnector_id,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

-- no re-ranking: the loader and the IRIS flush merge the raw table on its natural key (the
-- unique test on _natural_key holds it), and without a window a filter on settlement_date
-- reaches the raw table's scan
select * from renamed
