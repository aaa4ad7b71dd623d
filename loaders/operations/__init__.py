"""Operating the warehouse: schedule, status and its page, alerts, endpoint checks, exports."""
