-- Flexibility tenders and dispatches from every DNO portal, in one shape.
{{ unified_select('dno', 'flexibility', [
    ('start_utc', 'timestamp', ['start_time', 'start_time_utc', 'dispatch_start', 'start_date_time', 'start']),
    ('end_utc', 'timestamp', ['end_time', 'end_time_utc', 'dispatch_end', 'end_date_time', 'end']),
    ('zone', 'string', ['zone', 'flexibility_zone', 'constraint_zone', 'cmz']),
    ('product', 'string', ['product', 'service', 'product_type']),
    ('technology', 'string', ['technology', 'asset_type']),
    ('power_mw', 'number', ['dispatched_mw', 'power_mw', 'mw', 'capacity_mw']),
    ('price_gbp_per_mwh', 'number', ['utilisation_price', 'price', 'utilisation_price_gbp_mwh']),
], keep=['dno']) }}
