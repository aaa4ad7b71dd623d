{% snapshot isone_generator_roster_snapshot %}
-- History of ISO-NE's generator roster: an asset that leaves the roster keeps its rows (with
-- dbt_valid_to), and a change of name, fuel, zone or claimed capability opens a new version.
{{ config(
    unique_key='asset_id',
    strategy='check',
    check_cols=['asset_name', 'asset_type', 'fuel_type', 'load_zone', 'scc_summer_mw', 'scc_winter_mw'],
    hard_deletes='invalidate',
) }}

    select
        asset_id,
        asset_name,
        asset_type,
        fuel_type,
        load_zone,
        scc_summer_mw,
        scc_winter_mw
    from {{ ref('stg_isone__generator_roster') }}
    where is_in_latest_load

{% endsnapshot %}
