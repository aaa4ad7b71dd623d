-- ISO-NE day-ahead hourly LMP (final) per pricing location, $/MWh, with its energy, congestion
-- and loss components. No recording exists: the shape follows the service documentation.
{{ isone_lmp_staging('da_hourly_lmp', 3600) }}
