"""Django's {# #} comments end on their own line: one spread over lines is printed as text on the page (it was, in
the middle of every list of cards). Longer comments use {% comment %}."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
JINJA2_TEMPLATES = TEMPLATES / "jinja2"  # Jinja2's {# #} may span lines


def test_no_template_spreads_a_short_comment_over_several_lines():
    unclosed = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html")) + sorted(TEMPLATES.rglob("*.txt"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if JINJA2_TEMPLATES not in path.parents and re.search(r"\{#(?!.*#\})", line)
    ]
    assert unclosed == []
