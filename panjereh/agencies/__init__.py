"""Agencies that answer inquiries, and the catalogue of inquiry types they issue."""
