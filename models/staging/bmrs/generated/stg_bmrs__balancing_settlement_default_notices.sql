-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'balancing_settlement_default_notices', [
        ('participant_id', 'string'),
        ('participant_name', 'string'),
        ('credit_default_level', 'integer'),
        ('entered_default_settlement_date', 'date'),
        ('entered_default_settlement_period', 'integer'),
        ('cleared_default_settlement_date', 'date'),
        ('cleared_default_settlement_period', 'integer'),
        ('cleared_default_text', 'string'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        participant_id,
        participant_name,
        credit_default_level,
        entered_default_settlement_date,
        entered_default_settlement_period,
        cleared_default_settlement_date,
        cleared_default_settlement_period,
        cleared_default_text,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
