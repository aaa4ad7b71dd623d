-- ISO-NE seven-day wind power forecast, hourly, MW: one report per day, each forecasting up
-- to eight market days (report_date is the day of the report).
{{ isone_seven_day_forecast_staging('seven_day_wind_forecast') }}
