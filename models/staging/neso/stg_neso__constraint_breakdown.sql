-- NESO constraint breakdown costs and volumes per day, in one shape. No file was recorded for
-- this dataset: each column is the first of the names NESO has used for it that exists (see
-- unified_select), so a renamed column shows as null here while raw keeps it, as text.
{{ unified_select('neso', 'constraint_breakdown', [
    ('constraint_date', 'date', ['date', 'settlement_date', 'day']),
    ('thermal_cost_gbp', 'number', ['thermal_constraints_cost', 'thermal_cost', 'thermal']),
    ('voltage_cost_gbp', 'number', ['voltage_constraints_cost', 'voltage_cost', 'voltage']),
    ('largest_loss_cost_gbp', 'number', ['reducing_largest_loss_cost', 'largest_loss_cost', 'increasing_largest_loss_cost']),
    ('inertia_cost_gbp', 'number', ['inertia_cost', 'increasing_system_inertia_cost', 'inertia']),
    ('thermal_volume_mwh', 'number', ['thermal_constraints_volume', 'thermal_volume']),
    ('voltage_volume_mwh', 'number', ['voltage_constraints_volume', 'voltage_volume']),
]) }}
