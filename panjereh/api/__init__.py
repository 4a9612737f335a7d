"""HTTP API v1: thin routers over flows and queries."""
