-- ISO-NE real-time hourly demand per load zone, MW.
{{ isone_hourly_demand_staging('rt_hourly_demand') }}
