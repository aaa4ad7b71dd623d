{% snapshot isone_pricing_nodes_snapshot %}
-- History of ISO-NE's pricing locations (node to zone crosswalk); see isone_locations_snapshot.
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
    from {{ ref('stg_isone__pricing_nodes') }}
    where is_in_latest_load

{% endsnapshot %}
