"""Demo data: a realistic recent quarter of filings and agency answers for trying Panjereh out.

``panjereh demo-data`` calls :func:`panjereh.demo.history.load_demo`, which files every
declaration and records every answer through the same flows the API uses, so the inquiries,
deadlines and hash-chained events it leaves behind are real ones.
"""
