-- ISO-NE seven-day solar power forecast, hourly, MW: one report per day, each forecasting
-- up to eight market days (report_date is the day of the report).
{{ isone_seven_day_forecast_staging('seven_day_solar_forecast') }}
