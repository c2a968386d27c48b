"""{% load static_files %}: Django's static library with `{% static %}` answered once a process
(core.templatetags.static_files), the same URLs as Django's tag, following a change of where static files live."""

from django.template import Context, Template
from django.templatetags.static import static as django_static

PAGE = Template(
    "{% load static_files %}{% static 'js/search-form.js' %} {% static 'img/a b&c.svg' %}"
    " {% static 'js/focus.js' as focus %}{{ focus }} {% get_static_prefix %}"
)


def expected() -> str:
    return (
        f"{django_static('js/search-form.js')} {django_static('img/a b&c.svg')} {django_static('js/focus.js')}"
        " " + django_static("")
    )


def test_the_static_tag_gives_djangos_urls_and_follows_a_new_static_url(settings):
    assert PAGE.render(Context()) == expected()
    settings.STATIC_URL = "https://cdn.example.com/assets/"
    assert PAGE.render(Context()).startswith("https://cdn.example.com/assets/js/search-form.js ")
    assert PAGE.render(Context()) == expected()
