"""Escalation: versioned ladders, the clock sweep, manual escalation, immediate reports."""
