-- ISO-NE real-time five-minute LMP (preliminary) per pricing location, $/MWh, with components.
-- No recording exists: the shape follows the service documentation.
{{ isone_lmp_staging('rt_five_minute_lmp', 300) }}
