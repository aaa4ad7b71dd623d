-- Connection queues and embedded capacity registers from every DNO portal, in one shape.
{{ unified_select('dno', 'connection_queue', [
    ('site_name', 'string', ['customer_site', 'site_name', 'project_name', 'site']),
    ('technology', 'string', ['energy_conversion_technology_1', 'technology', 'energy_source_1']),
    ('capacity_mw', 'number', ['energy_source_energy_conversion_technology_1_registered_capacity_mw',
                               'registered_capacity_mw', 'capacity_mw', 'export_capacity_mw']),
    ('status', 'string', ['connection_status', 'status']),
    ('gsp_name', 'string', ['grid_supply_point', 'gsp', 'gsp_name']),
    ('voltage_kv', 'number', ['point_of_connection_poc_voltage_kv', 'voltage_kv', 'connection_voltage_kv']),
], keep=['dno']) }}
