"""Django's `static` template library, with `{% static %}` answered from the URLs worked out once a process
(core.jinja2.static): our templates `{% load static_files %}`. Django's tag checks which apps are installed and asks
the manifest storage on every use (three times a property page, 1.5% of its time, py-spy); a static file's URL does
not change while a process runs. Its other tags are Django's own."""

from django import template
from django.templatetags import static as django_static

from core.jinja2 import static as static_url

register = template.Library()
register.tags.update(django_static.register.tags)
register.filters.update(django_static.register.filters)


@register.simple_tag
def static(path: str) -> str:
    """As Django's {% static path %} (and {% static path as name %}): the URL of a static file."""
    return static_url(path)
