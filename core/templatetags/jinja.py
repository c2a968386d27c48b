from django import template
from django.utils.safestring import SafeString, mark_safe

from core.jinja2 import render_partial

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja(context, template_name: str, **values) -> SafeString:
    """Render the Jinja2 partial `template_name` (templates/jinja2/...) with `values` and the request; its output
    is already escaped by Jinja2's autoescaping."""
    request = context.get("request")  # None where a page is rendered without one: the partial sees None, not undefined
    return mark_safe(render_partial(template_name, values, request))  # noqa: S308
