"""Administrator-managed business calendars: working weeks, closures, holiday corrections."""
