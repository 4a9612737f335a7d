"""Versioned rule sets: which inquiries a declaration needs, and why."""
