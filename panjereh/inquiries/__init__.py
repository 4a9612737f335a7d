"""Inquiries: one agency's required answer about a declaration, and its state machine."""
