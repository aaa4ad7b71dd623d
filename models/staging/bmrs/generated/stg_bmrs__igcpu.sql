-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'igcpu', [
        ('dataset', 'string'),
        ('document_id', 'string'),
        ('publish_time', 'timestamp'),
        ('effective_from', 'date'),
        ('psr_type', 'string'),
        ('registered_resource_eic_code', 'string'),
        ('registered_resource_name', 'string'),
        ('bm_unit', 'string'),
        ('voltage_limit', 'number'),
        ('installed_capacity', 'number'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        dataset,
        document_id,
        {{ utc_timestamp('publish_time') }} as publish_time_utc,
        effective_from,
        psr_type,
        registered_resource_eic_code,
        registered_resource_name,
        bm_unit,
        voltage_limit,
        installed_capacity,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
