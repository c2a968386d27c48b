"""{% extends %} (core/templatetags/extends.py) renders what Django's own tag renders, also after templates change."""

import pytest
from django.template import Context, Engine
from django.template.loader_tags import ExtendsNode

from core.templatetags.extends import RememberingExtendsNode

LAYOUTS = {
    "root.html": "<title>{% block title %}Site{% endblock %}</title><main>{% block main %}"
    "{% block content %}empty{% endblock %}{% endblock %}</main>{% block foot %}(c){% endblock %}",
    "section.html": '{% extends "root.html" %}{% block title %}Section: {{ block.super }}{% endblock %}'
    "{% block content %}<nav>{{ section }}</nav>{% block body %}{% endblock %}{% endblock %}",
    "page.html": '{% extends "root.html" %}{% block title %}{{ name }}{% endblock %}'
    "{% block content %}<p>{{ name }}</p>{% endblock %}",
    "deep.html": '{% extends "section.html" %}{% block body %}<article>{{ name }}</article>{% endblock %}'
    "{% block foot %}{{ block.super }} and more{% endblock %}",
    "chosen.html": "{% extends layout %}{% block content %}chosen {{ name }}{% endblock %}",
    "with_include.html": '{% extends "root.html" %}{% block content %}{% include "page.html" %}|'
    '{% include "deep.html" %}{% endblock %}',
    "loop.html": '{% for name in names %}{% include "page.html" %};{% endfor %}',
}
CONTEXT = {"name": "Diani <Beach>", "section": "Coast", "layout": "section.html", "names": ["Kwale", "Lamu"]}


def engine(templates: dict[str, str], *, cached: bool = True, remembering: bool = True) -> Engine:
    loaders = [("django.template.loaders.locmem.Loader", templates)]
    if cached:
        loaders = [("django.template.loaders.cached.Loader", loaders)]
    builtins = ["core.templatetags.extends"] if remembering else []
    return Engine(loaders=loaders, builtins=builtins)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_pages_render_as_with_djangos_extends_every_time(name):
    """The same text as Django's tag, on the first render and on later ones (when the parent is remembered)."""
    expected = engine(dict(LAYOUTS), remembering=False).get_template(name).render(Context(CONTEXT))
    remembering = engine(dict(LAYOUTS))
    for _ in range(3):
        assert remembering.get_template(name).render(Context(CONTEXT)) == expected


def test_the_tag_is_the_remembering_one_on_the_sites_templates():
    from django.template import engines

    template = engines["django"].get_template("listings/listing_detail.html").template
    first = template.nodelist.get_nodes_by_type(ExtendsNode)[0]
    assert isinstance(first, RememberingExtendsNode)


def test_a_changed_layout_shows_once_the_loader_forgets_its_templates():
    """What the development server's autoreload and a change of settings do: the cached loader is reset, and the
    page shows the new layout rather than a remembered one."""
    templates = dict(LAYOUTS)
    remembering = engine(templates)
    assert remembering.get_template("page.html").render(Context(CONTEXT)).endswith("(c)")
    templates["root.html"] = templates["root.html"].replace("(c)", "(new)")
    remembering.template_loaders[0].reset()
    assert remembering.get_template("page.html").render(Context(CONTEXT)).endswith("(new)")


def test_without_a_cached_loader_every_render_reads_the_layout():
    templates = dict(LAYOUTS)
    uncached = engine(templates, cached=False)
    page = uncached.get_template("page.html")
    assert page.render(Context(CONTEXT)).endswith("(c)")
    templates["root.html"] = templates["root.html"].replace("(c)", "(new)")
    assert page.render(Context(CONTEXT)).endswith("(new)")


def test_a_layout_named_by_a_variable_follows_the_variable():
    remembering = engine(dict(LAYOUTS))
    chosen = remembering.get_template("chosen.html")
    assert chosen.render(Context(CONTEXT)).startswith("<title>Section: Site</title>")
    assert chosen.render(Context({**CONTEXT, "layout": "root.html"})).startswith("<title>Site</title>")


def test_a_layout_that_extends_one_of_its_own_name_renders_as_with_djangos_extends():
    """Three directories with a base.html each, each extending the next one's (as a project overrides an app's
    template): the tag keeps the history of templates above it, so each finds the next rather than itself."""
    directories = [
        {"base.html": '{% extends "base.html" %}{% block x %}first, {{ block.super }}{% endblock %}'},
        {"base.html": '{% extends "base.html" %}{% block x %}second, {{ block.super }}{% endblock %}'},
        {"base.html": "[{% block x %}third{% endblock %}]"},
    ]

    def make(builtins: list[str]) -> Engine:
        loaders = [("django.template.loaders.locmem.Loader", templates) for templates in directories]
        return Engine(loaders=[("django.template.loaders.cached.Loader", loaders)], builtins=builtins)

    expected = make([]).get_template("base.html").render(Context())
    assert expected == "[first, second, third]"
    remembering = make(["core.templatetags.extends"])
    for _ in range(3):
        assert remembering.get_template("base.html").render(Context()) == expected
