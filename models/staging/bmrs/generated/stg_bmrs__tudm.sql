-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'tudm', [
        ('dataset', 'string'),
        ('serial_number', 'string'),
        ('file_creation_time', 'timestamp'),
        ('trading_unit_type', 'string'),
        ('trading_unit_name', 'string'),
        ('settlement_date', 'date'),
        ('settlement_period', 'integer'),
        ('settlement_run_type', 'string'),
        ('start_time', 'timestamp'),
        ('delivery_mode', 'string'),
        ('import_volume', 'number'),
        ('export_volume', 'number'),
        ('net_volume', 'number'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        dataset,
        serial_number,
        {{ utc_timestamp('file_creation_time') }} as file_creation_time_utc,
        trading_unit_type,
        trading_unit_name,
        settlement_date,
        settlement_period,
        settlement_run_type,
        {{ utc_timestamp('start_time') }} as start_time_utc,
        delivery_mode,
        import_volume,
        export_volume,
        net_volume,
        {{ settlement_period_start_utc('settlement_date', 'settlement_period') }} as settlement_period_start_utc,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
