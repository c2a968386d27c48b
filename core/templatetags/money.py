from django import template

from core.money import format_kes

register = template.Library()


@register.filter
def kes(value) -> str:
    """Show a whole-shilling amount: 12500 -> 'KES 12,500'."""
    if value is None or value == "":
        return ""
    return format_kes(int(value))
