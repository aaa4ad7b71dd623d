-- Substation and circuit power flows from every DNO portal, in one shape.
{{ unified_select('dno', 'powerflow', [
    ('timestamp_utc', 'timestamp', ['timestamp', 'timestamp_utc', 'datetime', 'date_time', 'time']),
    ('asset_id', 'string', ['tx_id', 'circuit_id', 'transformer_id', 'asset_id', 'circuit', 'site']),
    ('active_power_mw', 'number', ['active_power_mw', 'mw', 'active_power', 'power_mw']),
    ('current_amps', 'number', ['current_amps', 'current_a', 'amps', 'current']),
], keep=['dno']) }}
