"""Reference data the marts join on (GSPs, GSP groups, DNOs), built into dbt seeds."""
