"""Service levels in Iranian business time: calendars (pure) and the one deadline function."""
