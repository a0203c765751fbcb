"""Self-contained HTML reports (per sample and per patient).

``html`` renders Jinja2 templates from ``templates/`` with autoescaping on;
CSS, JavaScript and SVG are inlined so a report opens from disk or an e-mail
attachment with no network access.  ``context`` turns an annotate result (or
its JSON document) into plain template data; ``svg`` sanitises and draws the
inline SVG.  Nothing here reads VCFs: the report is a view of results.
"""

from __future__ import annotations
