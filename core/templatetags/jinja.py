from django import template
from django.template import engines
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context, template_name: str, **values) -> SafeString:
    """Render the Jinja2 partial `template_name` (templates/jinja2/...) with `values` and the request; its output
    is already escaped by Jinja2's autoescaping.

    The partial is rendered by Jinja2 itself, not through Django's Jinja2 template: no partial reads the CSRF
    token that one adds for every render (a partial that needs it is given it), and a page renders four or five
    partials (bench/demo_pages.py)."""
    partial = engines["jinja2"].env.get_template(template_name)
    request = context.get("request")  # None where a page is rendered without one: the partial sees None, not undefined
    return mark_safe(partial.render({**values, "request": request}))  # noqa: S308
