{% snapshot isone_locations_snapshot %}
-- History of ISO-NE's core locations: each load replaces the whole list, so a location that
-- leaves it gets dbt_valid_to (hard_deletes: invalidate) instead of vanishing, a changed name
-- or type opens a new version, and a new location is added.
{{ config(
    unique_key='location_id',
    strategy='check',
    check_cols=['location_name', 'location_type', 'area_type'],
    hard_deletes='invalidate',
) }}

    select
        location_id,
        location_name,
        location_type,
        area_type
    from {{ ref('stg_isone__locations') }}
    where is_in_latest_load

{% endsnapshot %}
