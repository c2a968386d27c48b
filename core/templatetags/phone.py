from django import template

from core.phone import format_phone

register = template.Library()


@register.filter
def phone(value) -> str:
    """Show a mobile number the Kenyan way: 254712345149 -> '0712 345 149'."""
    return format_phone(str(value or ""))
