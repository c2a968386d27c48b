from django import template
from django.template.base import FilterExpression, Variable
from django.template.library import token_kwargs
from django.utils.safestring import SafeString, mark_safe

from core.jinja2 import render_partial

register = template.Library()

_MISSING = object()


class JinjaNode(template.Node):
    """{% jinja "partial.html" name=value ... %}: the Jinja2 partial rendered with the values and the request.

    A value that is a plain name of the page's context (most of them) is read from the context directly, as Django's
    variable lookup finds it, rather than through that lookup, which handles dotted names, literals and callables on
    every render: 1.8 us a value, the property page's partial takes twelve (bench/instructions.py). A dotted name, a
    literal, a filter, a name not in the context or a callable value goes through Django's lookup as before."""

    def __init__(self, template_name: FilterExpression, values: dict[str, FilterExpression]):
        self.template_name = template_name
        self.values = values
        self.plain_names = {key: _plain_name(expression) for key, expression in values.items()}

    def render(self, context) -> SafeString:
        values = {}
        for key, expression in self.values.items():
            name = self.plain_names[key]
            value = _MISSING if name is None else context.get(name, _MISSING)
            values[key] = expression.resolve(context) if value is _MISSING or callable(value) else value
        # None where a page is rendered without a request: the partial sees None, not undefined.
        request = context.get("request")
        # The partial's output is already escaped by Jinja2's autoescaping.
        return mark_safe(render_partial(self.template_name.resolve(context), values, request))  # noqa: S308


def _plain_name(expression: FilterExpression) -> str | None:
    """The context name `expression` reads, if it is only that (no filter, no dot, not a literal); else None."""
    variable = expression.var
    if expression.filters or not isinstance(variable, Variable) or variable.literal is not None:
        return None
    if variable.lookups is None or len(variable.lookups) != 1 or variable.translate:
        return None
    return variable.lookups[0]


@register.tag
def jinja(parser, token) -> JinjaNode:
    """{% jinja "partial.html" name=value ... %}: render the Jinja2 partial (templates/jinja2/...) with the values
    and the request."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% jinja %} takes a partial's name, then name=value pairs.")
    remaining = bits[2:]
    values = token_kwargs(remaining, parser)
    if remaining:
        raise template.TemplateSyntaxError(f"{{% jinja %}} takes only name=value pairs after the partial: {remaining}")
    return JinjaNode(parser.compile_filter(bits[1]), values)
