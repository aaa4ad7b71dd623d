-- Network headroom (spare demand and generation capacity) by site, from every DNO portal.
{{ unified_select('dno', 'headroom', [
    ('site_name', 'string', ['site_name', 'substation_name', 'substation', 'site', 'primary_substation']),
    ('site_type', 'string', ['site_type', 'substation_type', 'asset_type', 'type']),
    ('voltage_kv', 'number', ['voltage_kv', 'nominal_voltage_kv', 'voltage']),
    ('demand_headroom_mw', 'number', ['demand_headroom_mw', 'demand_headroom', 'demand_headroom_mva']),
    ('generation_headroom_mw', 'number', ['generation_headroom_mw', 'generation_headroom', 'generation_headroom_mva']),
    ('gsp_name', 'string', ['gsp_name', 'gsp', 'grid_supply_point']),
    ('latitude', 'number', ['latitude', 'lat']),
    ('longitude', 'number', ['longitude', 'lon', 'long']),
], keep=['dno']) }}
