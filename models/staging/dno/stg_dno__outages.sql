-- Outages and interruptions from every DNO portal, in one shape.
{{ unified_select('dno', 'outages', [
    ('reference', 'string', ['incident_reference', 'incidentreference', 'reference', 'fault_id']),
    ('start_utc', 'timestamp', ['creation_date_time', 'start_time', 'incident_start', 'start']),
    ('restored_utc', 'timestamp', ['restored_date_time', 'estimated_restoration', 'end_time', 'restored']),
    ('customers_affected', 'integer', ['no_customers_affected', 'customers_affected', 'customers_off']),
    ('postcode', 'string', ['postcodes_affected', 'postcode', 'postcode_sector']),
    ('status', 'string', ['status', 'incident_type', 'power_cut_type']),
], keep=['dno']) }}
