-- ISO-NE day-ahead cleared hourly demand per load zone (32 = the NEPOOL area), MW.
{{ isone_hourly_demand_staging('da_hourly_demand') }}
