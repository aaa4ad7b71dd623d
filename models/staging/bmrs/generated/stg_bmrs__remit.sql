-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'remit', [
        ('dataset', 'string'),
        ('mrid', 'string'),
        ('revision_number', 'integer'),
        ('publish_time', 'timestamp'),
        ('created_time', 'timestamp'),
        ('message_type', 'string'),
        ('message_heading', 'string'),
        ('event_type', 'string'),
        ('unavailability_type', 'string'),
        ('participant_id', 'string'),
        ('registration_code', 'string'),
        ('asset_id', 'string'),
        ('asset_type', 'string'),
        ('affected_unit', 'string'),
        ('affected_unit_eic', 'string'),
        ('affected_area', 'string'),
        ('bidding_zone', 'string'),
        ('fuel_type', 'string'),
        ('normal_capacity', 'number'),
        ('available_capacity', 'number'),
        ('unavailable_capacity', 'number'),
        ('event_status', 'string'),
        ('event_start_time', 'timestamp'),
        ('event_end_time', 'timestamp'),
        ('duration_uncertainty', 'string'),
        ('cause', 'string'),
        ('related_information', 'string'),
        ('outage_profile', 'json'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        dataset,
        mrid,
        revision_number,
        {{ utc_timestamp('publish_time') }} as publish_time_utc,
        {{ utc_timestamp('created_time') }} as created_time_utc,
        message_type,
        message_heading,
        event_type,
        unavailability_type,
        participant_id,
        registration_code,
        asset_id,
        asset_type,
        affected_unit,
        affected_unit_eic,
        affected_area,
        bidding_zone,
        fuel_type,
        normal_capacity,
        available_capacity,
        unavailable_capacity,
        event_status,
        {{ utc_timestamp('event_start_time') }} as event_start_time_utc,
        {{ utc_timestamp('event_end_time') }} as event_end_time_utc,
        duration_uncertainty,
        cause,
        related_information,
        outage_profile,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
