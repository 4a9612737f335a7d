"""Reports for the national supervisor: the immediate report on late inquiries.

``service`` builds the report from the store (a handful of queries, no per-inquiry round
trips); ``render`` writes it as a printable HTML page (Jinja2) or a PDF (fpdf2 with text
shaping, so Persian joins and runs right to left); ``router`` serves JSON, HTML and PDF.
See ``docs/immediate-report.md`` for what each figure means and how it is computed.
"""
