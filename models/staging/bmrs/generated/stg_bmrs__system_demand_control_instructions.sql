-- Generated from the BMRS catalogue by `python -m loaders.sources.bmrs.dbtgen`: change the
-- catalogue hints (loaders/sources/bmrs/hints.py) and regenerate rather than editing this file.

with

source as (

    select * from {{ source_or_empty('bmrs', 'system_demand_control_instructions', [
        ('m_rid', 'string'),
        ('revision_number', 'integer'),
        ('publish_time', 'timestamp'),
        ('publishing_period_commencing_time', 'timestamp'),
        ('affected_dso', 'string'),
        ('demand_control_id', 'string'),
        ('instruction_sequence', 'integer'),
        ('demand_control_event_flag', 'string'),
        ('time_from', 'timestamp'),
        ('time_to', 'timestamp'),
        ('volume', 'number'),
        ('system_management_action_flag', 'string'),
        ('amendment_flag', 'string'),
        ('_source', 'string'),
        ('_record_hash', 'integer'),
        ('_natural_key', 'string'),
        ('_loaded_at', 'timestamp')
    ]) }}

),

renamed as (

    select
        m_rid,
        revision_number,
        {{ utc_timestamp('publish_time') }} as publish_time_utc,
        {{ utc_timestamp('publishing_period_commencing_time') }} as publishing_period_commencing_time_utc,
        affected_dso,
        demand_control_id,
        instruction_sequence,
        demand_control_event_flag,
        {{ utc_timestamp('time_from') }} as time_from_utc,
        {{ utc_timestamp('time_to') }} as time_to_utc,
        volume,
        system_management_action_flag,
        amendment_flag,
        _natural_key,
        _record_hash,
        _source,
        {{ utc_timestamp('_loaded_at') }} as loaded_at_utc
    from source

)

select * from renamed
