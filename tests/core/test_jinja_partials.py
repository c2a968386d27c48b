"""Jinja2 partials included from Django templates: same filters, escaping and CSP nonce as the page around them."""

import collections
import html
import re

import pytest
from django.template import Context, Template, engines
from django.test import RequestFactory
from jinja2 import UndefinedError
from markupsafe import Markup


@pytest.fixture
def partial(tmp_path, settings):
    """A Jinja2 partial written for the test, found through a second directory of the Jinja2 engine."""
    (tmp_path / "sample").mkdir()
    (tmp_path / "sample" / "_line.html").write_text(
        '{# a comment\n   over two lines #}<p data-nonce="{{ csp_nonce(request) }}">{{ value }} pays {{ amount|kes }}'
        " from {{ number|phone }} <a href=\"{{ url('listings:search') }}\">search</a></p>"
    )
    engine = engines["jinja2"]
    original = engine.env.loader.searchpath[:]
    engine.env.loader.searchpath.append(str(tmp_path))
    yield "sample/_line.html"
    engine.env.loader.searchpath[:] = original


def test_a_django_page_includes_a_jinja2_partial_with_the_same_filters_and_escaping(partial):
    request = RequestFactory().get("/")
    request._csp_nonce = "n0nce"
    page = Template("<div>{% jinja name value=person amount=total number=mobile %}</div>")
    html = page.render(
        Context(
            {"request": request, "name": partial, "person": "<b>Amina</b>", "total": 12500, "mobile": "254712345149"}
        )
    )
    assert html == (
        '<div><p data-nonce="n0nce">&lt;b&gt;Amina&lt;/b&gt; pays KES 12,500 from 0712 345 149 '
        '<a href="/listings/">search</a></p></div>'
    )


@pytest.mark.django_db
def test_the_layouts_script_carries_the_nonce_of_the_pages_policy_header(client):
    """The layout's head is a Jinja2 partial: its htmx script must carry the nonce that the response's policy names,
    even when nothing on the page used the nonce before it (an unused LazyNonce reads as false)."""
    response = client.get("/no-such-page/")
    header_nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    script = re.search(r'<script src="[^"]*htmx[^"]*" defer nonce="([^"]*)"', response.content.decode())
    assert script.group(1) == header_nonce != ""


@pytest.mark.django_db
def test_the_layouts_remembered_parts_show_each_pages_own_place_nonce_and_menu(client, django_user_model):
    """The layout's head and header are remembered (core/_layout_parts.html), its nonce, account menu and the place
    typed in the site search are each page's own: the same search twice, then others, each shows what was asked."""

    def site_search_value(page: str) -> str:
        return html.unescape(re.search(r'id="site-search"[^>]* value="([^"]*)"', page).group(1))

    nonces = set()
    for where in ("Diani", "Diani", 'Nanyuki <b>"&', "", "Diani"):
        response = client.get("/listings/", {"where": where})
        page = response.content.decode()
        assert site_search_value(page) == where
        nonce = re.search(r'<script src="[^"]*htmx[^"]*" defer nonce="([^"]*)"', page).group(1)
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
        nonces.add(nonce)
        assert "Sign in</a>" in page and "data-account-menu" not in page
    assert len(nonces) == 5
    client.force_login(django_user_model.objects.create_user(email="wanjiru@example.com", full_name="Wanjiru Kamau"))
    page = client.get("/listings/", {"where": "Diani"}).content.decode()
    assert site_search_value(page) == "Diani"
    assert "data-account-menu" in page and "Sign in</a>" not in page and "Wanjiru" in page


@pytest.mark.parametrize("debug", [False, True])
def test_the_layouts_htmx_script_is_django_htmxs_own(settings, debug):
    """The layout writes htmx's script tag with its static URL worked out once; the tag is django-htmx's, with
    DEBUG on (its debugging script added) and off."""
    from django_htmx.jinja import htmx_script as django_htmx_script

    from core.jinja2 import htmx_script, static

    settings.DEBUG = debug
    static.cache_clear()
    for nonce in ("n0nce-AbC_12", ""):
        assert str(htmx_script(nonce=nonce)) == str(django_htmx_script(nonce=nonce))


class _Shown:
    """An object a template prints through its str()."""

    def __str__(self) -> str:
        return "5 < 6 & \"quoted\" 'single'"


@pytest.mark.parametrize(
    "value",
    [
        "<b>Amina & \"Juma\"</b> 'x'",
        "",
        12500,
        -3,
        2.5,
        None,
        True,
        _Shown(),
        "plain text",
    ],
)
def test_a_printed_value_is_escaped_as_markupsafe_escapes_it(value):
    from markupsafe import escape

    from core.jinja2 import escaped_output

    assert escaped_output(value) == str(escape(value))
    html = engines["jinja2"].env.from_string("<p title='{{ value }}'>{{ value }}</p>").render(value=value)
    assert html == f"<p title='{escape(value)}'>{escape(value)}</p>"


def test_markup_and_django_safe_strings_are_printed_as_they_are_and_undefined_values_as_nothing():
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy
    from markupsafe import Markup

    template = engines["jinja2"].env.from_string("{{ markup }}|{{ safe }}|{{ lazy }}|{{ missing }}|{{ items.key }}")
    html = template.render(
        markup=Markup("<i>a</i>"), safe=mark_safe("<b>b</b>"), lazy=gettext_lazy("Tom & Jerry"), items={"key": "<k>"}
    )
    assert html == "<i>a</i>|<b>b</b>|Tom &amp; Jerry||&lt;k&gt;"


@pytest.mark.parametrize("value", ["Diani · 20–23 Dec", Markup("<i>★ 4.7</i>"), "Ngũgĩ <wa> Thiong'o", "🏖", "plain"])
def test_a_partial_prints_ascii_that_reads_as_the_same_text(value):
    """Text and values beyond ASCII come out as character references (core/jinja2.py says why): the page is ASCII
    and a browser reads the very characters Jinja2 itself prints."""
    from jinja2 import Environment

    source = (
        "<p title='{{ value }} ✓'>© {{ value }} · {{ label }}</p>{% autoescape false %}{{ value }}{% endautoescape %}"
    )
    theirs = Environment(autoescape=True).from_string(source).render(value=value, label="★")
    ours = engines["jinja2"].env.from_string(source).render(value=value, label="★")
    printed, unescaped_part = ours.rsplit("</p>", 1)
    assert printed.isascii() and "&#169;" in printed and "&#9733;" in printed
    assert html.unescape(printed) == html.unescape(theirs.rsplit("</p>", 1)[0])
    assert unescaped_part == str(value)  # where a template switches escaping off, it prints the value as it is


def test_blocks_that_collect_output_still_escape_once():
    """{% set %} blocks and macros collect their output and hand it on as Markup: printed again, it is not escaped a
    second time, and what went into it was escaped once."""
    template = engines["jinja2"].env.from_string(
        "{% macro line(text) %}<li>{{ text }}</li>{% endmacro %}"
        "{% set block %}<b>{{ value }}</b>{% endset %}{{ block }}{{ line(value) }}{{ value|upper }}"
    )
    assert template.render(value="a<b") == "<b>a&lt;b</b><li>a&lt;b</li>A&lt;B"


def test_partials_print_what_jinja2_itself_prints_and_a_page_comes_out_of_few_pieces():
    """Each run of output between two statements comes out in one piece and an attribute is read where it is used
    (core/jinja2.py), with the same text as Jinja2's own code makes: values escaped once, autoescape switched off
    where a template says so, loops (filtered too), conditions, blocks that collect their output, macros and calls,
    an `{% extends %}`'s blocks, a dict's keys read as attributes and what is missing printed as nothing."""
    from jinja2 import DictLoader, Environment
    from markupsafe import Markup

    sources = {
        "base.html": "<h1>{% block title %}T{% endblock %}</h1>{{ note }}<main>{% block body %}{% endblock %}</main>",
        "page.html": (
            "{% extends 'base.html' %}{% block title %}{{ title }} & co{% endblock %}"
            "{% block body %}<ul>{% for item in items %}<li class='{{ loop.index }}'>{{ item }} · {{ item|length }}"
            "</li>{% else %}<li>none</li>{% endfor %}</ul>{% if flag %}<p>{{ flag }}</p>{% endif %}"
            "{% autoescape false %}<pre>{{ raw }}{{ raw }}</pre>{% endautoescape %}"
            "{% set kept %}<b>{{ title }}</b>{{ raw }}{% endset %}{{ kept }}{{ kept }}{{ markup }}x"
            "{% macro row(cell) %}<td>{{ cell.name }}|{{ caller() if caller }}</td>{% endmacro %}"
            "{% for cell in cells if cell.shown %}{% call row(cell) %}{{ cell.lookup.key }}{% endcall %}{% endfor %}"
            "{{ cells[0].lookup.missing }}|{{ nothing }}{{ cells[1].nope is undefined }}|"
            "{{ cells|map(attribute='name')|join }}"
            "{% with first = cells|first %}{{ first.name.upper() }}{% endwith %}{% endblock %}"
        ),
    }
    cell = type("Cell", (), {"__init__": lambda self, name, shown: self.__dict__.update(name=name, shown=shown)})
    values = {
        "title": "<Tom>", "items": ["a&b", Markup("<i>c</i>"), "3"], "flag": "\"q\"", "raw": "<raw>",
        "markup": Markup("<em>m</em>"), "note": "n'",
        "cells": [cell("<a>", True), cell("b", False), {"name": "c", "shown": True, "lookup": {"key": "<k>"}}],
    }  # fmt: skip
    values["cells"][0].lookup = {"key": "k0"}
    ours = engines["jinja2"].env.overlay(loader=DictLoader(sources))
    theirs = Environment(loader=DictLoader(sources), autoescape=True)
    expected = theirs.get_template("page.html").render(values)
    assert "&lt;Tom&gt; & co" in expected and "<pre><raw><raw></pre>" in expected
    assert "<td>&lt;a&gt;|k0</td><td>c|&lt;k&gt;</td>|True|&lt;a&gt;bc&lt;A&gt;" in expected
    template = ours.get_template("page.html")
    # The same text, in ASCII: the "·" as a character reference.
    assert template.render(values) == expected.replace("·", "&#183;")
    assert template.render({**values, "items": [], "flag": ""}) == theirs.get_template("page.html").render(
        {**values, "items": [], "flag": ""}
    )
    pieces = list(template.generate(values))
    assert len(pieces) < len(list(theirs.get_template("page.html").generate(values))) / 2


def test_partials_leave_out_the_indentation_of_their_lines_but_not_the_spaces_of_a_pre_or_a_textarea():
    source = (
        "<ul>\n  <li class='a\n      b'>{{ a }}</li>\n\t<li>b\n      c</li>\n</ul>\n"
        "  <PRE>\n  {{ a }}\n</PRE >\n  <textarea name='t'>\n    kept</textarea>\n  <p>\n    {{ a }}</p>"
    )
    expected = (
        "<ul>\n<li class='a\nb'>x</li>\n<li>b\nc</li>\n</ul>\n"
        "<PRE>\n  x\n</PRE >\n<textarea name='t'>\n    kept</textarea>\n<p>\nx</p>"
    )
    assert engines["jinja2"].env.from_string(source).render(a="x") == expected


@pytest.mark.parametrize(
    "query",
    ["", "page=3", "where=Kwale&check_in=2026-12-20&guests=2", "amenities=wifi&amenities=pool&page=1",
     "where=Nyeri%20%26%20Meru&q=caf%C3%A9+%2B1", "where=&page="],
)  # fmt: skip
@pytest.mark.parametrize(
    "changes",
    [{"page": 2}, {"page": None}, {"page": "2", "where": "Lamu"}, {"amenities": ["wifi", None, "pool"]},
     {"amenities": [None]}, {}],
)  # fmt: skip
def test_querystring_is_the_text_djangos_tag_writes(rf, query, changes):
    """core.jinja2.querystring, which the search results' page links use, writes what {% querystring %} writes."""
    from types import SimpleNamespace

    from django.template.defaulttags import querystring as django_querystring

    from core.jinja2 import querystring

    request = rf.get(f"/listings/?{query}")
    assert querystring(request, **changes) == django_querystring(SimpleNamespace(request=request), **changes)


@pytest.mark.parametrize(
    "text",
    ["One line", "Two\nlines", "First <b>para</b>\n\nSecond & last\r\n\r\nThird", "", None, 12, "  spaced  \n\n\n"],
)
def test_linebreaks_prints_what_djangos_filter_prints_every_time(text):
    from django.template.defaultfilters import linebreaks_filter

    from core.jinja2 import linebreaks

    expected = linebreaks_filter(text if text is not None else "", autoescape=True)
    assert linebreaks(text) == expected
    assert linebreaks(text) == expected  # again, from what the first call worked out
    assert str(linebreaks(f"{text} and more")) != expected


@pytest.mark.django_db
def test_the_layout_shows_each_message_escaped_in_its_levels_colours(rf):
    """The layout's messages come with its header, from a Jinja2 partial: each message once, its text escaped, its
    colours by level, as the Django layout showed them."""
    from django.contrib import messages
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get("/")
    request.user, request.session = AnonymousUser(), SessionStore()
    request._messages = FallbackStorage(request)
    messages.error(request, "Payment <b>failed</b>")
    messages.warning(request, "Check your phone")
    messages.success(request, "Booked & paid")
    page = engines["django"].from_string('{% extends "_base.html" %}{% block content %}Hello{% endblock %}')
    html = page.render({}, request)
    shown = re.findall(r'<p role="status" class="mb-2 rounded-md border px-4 py-3 text-sm ([^"]+)">(.*?)</p>', html)
    assert shown == [
        ("border-red-200 bg-red-50 text-red-800", "Payment &lt;b&gt;failed&lt;/b&gt;"),
        ("border-amber-200 bg-amber-50 text-amber-900", "Check your phone"),
        ("border-emerald-200 bg-emerald-50 text-emerald-900", "Booked &amp; paid"),
    ]
    assert html.count('id="messages"') == 1 and html.index('id="messages"') < html.index('<main id="main"')
    without = engines["django"].from_string('{% extends "_base.html" %}').render({}, rf.get("/"))
    assert 'id="messages"' not in without


def test_the_partials_values_are_what_djangos_own_lookup_gives(monkeypatch):
    """The {% jinja %} tag reads a plain name from the context directly; every value it hands the partial is what
    Django's variable lookup gives for the same text: missing names, callables, lazy objects, dotted names, filters,
    literals, and a name that is also an attribute of the context."""
    from django.template.base import FilterExpression, Parser
    from django.utils.functional import SimpleLazyObject

    from core.templatetags import jinja as jinja_tags

    handed = {}
    monkeypatch.setattr(jinja_tags, "render_partial", lambda name, values, request: handed.update(values) or "")
    expressions = {
        "plain": "person",
        "missing": "nobody",
        "called": "greet",
        "lazy": "later",
        "none": "nothing",
        "dotted": "person.upper",
        "filtered": "person|upper",
        "literal": '"text"',
        "number": "3",
        "attribute": "autoescape",
        "shadowed": "template",
        "listed": "names",
    }
    values = {"person": "amina", "greet": lambda: "hello", "later": SimpleLazyObject(lambda: "later"), "nothing": None}
    values["names"] = ["a", "b"]
    source = '{% jinja "x.html" ' + " ".join(f"{key}={text}" for key, text in expressions.items()) + " %}"
    context, page = Context(values), Template(source)
    page.render(context)
    parser = Parser("", builtins=engines["django"].engine.template_builtins)
    with context.bind_template(page):  # as while rendering: a missing name reads as the engine's string_if_invalid
        expected = {key: FilterExpression(text, parser).resolve(context) for key, text in expressions.items()}
    assert handed == expected
    assert handed["called"] == "hello" and handed["missing"] == "" and handed["filtered"] == "AMINA"


@pytest.mark.parametrize("source", ["{% jinja %}", '{% jinja "x.html" person %}', '{% jinja "x.html" a=b c %}'])
def test_a_jinja_tag_with_anything_but_name_value_pairs_is_a_template_error(source):
    from django.template import TemplateSyntaxError

    with pytest.raises(TemplateSyntaxError):
        Template(source)


def test_remembered_blocks_render_a_partials_blocks_once_for_a_key_a_language_and_the_settings(monkeypatch, settings):
    """core.jinja2.remembered_blocks: each block rendered with the values alone; the same key (and language, and
    settings) gives the texts rendered first, whatever the values; any other key renders them again."""
    from django.utils import translation
    from jinja2 import ChoiceLoader, DictLoader

    from core.jinja2 import forget_remembered, remembered_blocks

    env = engines["jinja2"].env
    source = (
        "ignored{% block one %}<b>{{ name }}</b>{% endblock %}"
        "{% block two %}{{ name|upper }} · {{ request }}{% endblock %}"
    )
    monkeypatch.setattr(env, "loader", ChoiceLoader([DictLoader({"test/_sheet.html": source}), env.loader]))
    forget_remembered()
    first = remembered_blocks("test/_sheet.html", ("row", 1), name="<a>")
    assert first == {"one": "<b>&lt;a&gt;</b>", "two": "&lt;A&gt; &#183; "}
    assert remembered_blocks("test/_sheet.html", ("row", 1), name="other") == first
    assert remembered_blocks("test/_sheet.html", ("row", 2), name="other")["one"] == "<b>other</b>"
    with translation.override("sw"):
        assert remembered_blocks("test/_sheet.html", ("row", 1), name="Swahili")["one"] == "<b>Swahili</b>"
    assert remembered_blocks("test/_sheet.html", ("row", 1), name="again") == first
    settings.MEDIA_URL = "/elsewhere/"
    assert remembered_blocks("test/_sheet.html", ("row", 1), name="again")["one"] == "<b>again</b>"


def test_remembered_each_renders_a_partial_once_for_an_item_a_language_and_the_settings(monkeypatch, settings):
    """core.jinja2.remembered_each: the partial rendered for each item with the item alone, the texts joined; an
    equal item (in the same language, under the same settings) gives the text rendered first, any other renders."""
    from django.utils import translation
    from jinja2 import ChoiceLoader, DictLoader

    from core.jinja2 import forget_remembered, remembered_each

    rendered = []

    def seen(item):
        rendered.append(item)
        return ""

    env = engines["jinja2"].env
    source = "<td>{{ day.name }}{{ seen(day) }}{{ request }}</td>"
    monkeypatch.setitem(env.globals, "seen", seen)
    monkeypatch.setattr(env, "loader", ChoiceLoader([DictLoader({"test/_day.html": source}), env.loader]))
    forget_remembered()
    Day = collections.namedtuple("Day", "name price")
    week = [Day("<Mon>", 1), Day("Tue", 1), Day("<Mon>", 1)]
    assert remembered_each("test/_day.html", "day", week) == "<td>&lt;Mon&gt;</td><td>Tue</td><td>&lt;Mon&gt;</td>"
    assert rendered == week[:2]
    assert remembered_each("test/_day.html", "day", [Day("Tue", 1), Day("Tue", 2)]) == "<td>Tue</td><td>Tue</td>"
    assert rendered == [*week[:2], Day("Tue", 2)]
    with translation.override("sw"):
        remembered_each("test/_day.html", "day", week[:1])
    assert rendered[-1] == week[0] and len(rendered) == 4
    settings.MEDIA_URL = "/elsewhere/"
    remembered_each("test/_day.html", "day", week[:1])
    assert len(rendered) == 5
    # Another partial by the same name (another loader) is that partial.
    monkeypatch.setattr(env, "loader", DictLoader({"test/_day.html": "<th>{{ day.price }}</th>"}))
    assert remembered_each("test/_day.html", "day", week[:2]) == "<th>1</th><th>1</th>"


def test_partials_and_what_they_include_are_the_loaders_own(monkeypatch):
    """Templates are kept by loader and name (core.jinja2 _Environment.template): the same name from another loader
    is that loader's template, whether a page asks for it or a partial includes it."""
    from jinja2 import DictLoader

    env = engines["jinja2"].env
    for inner in ("one", "two"):
        loader = DictLoader({"test/_outer.html": "[{% include 'test/_inner.html' %}]", "test/_inner.html": inner})
        monkeypatch.setattr(env, "loader", loader)
        assert env.template("test/_outer.html").render() == f"[{inner}]"
        assert env.template("test/_outer.html") is env.get_template("test/_outer.html")


def test_calls_in_a_partial_reach_what_jinja2_would_call_with_what_it_would_pass():
    """The environment's own functions are called directly (core/jinja2.py, _CodeGenerator.visit_Call); a callable
    that asks for the context still gets it, in loops too, and a value of the same name as a function is what a
    template calls."""
    from jinja2 import pass_context

    @pass_context
    def greeting(context, suffix):
        return f"{context['name']}{suffix}"

    env = engines["jinja2"].env
    source = (
        "{{ url('home') }}|{{ greeting('!') }}|{% for i in range(2) %}{{ greeting(i|string) }}{% endfor %}"
        "|{{ dict(a=1)['a'] }}"
    )
    assert env.from_string(source).render(greeting=greeting, name="Amina") == "/|Amina!|Amina0Amina1|1"
    assert env.from_string("{{ url('home') }}").render(url=lambda name: f"mine:{name}") == "mine:home"
    with pytest.raises(UndefinedError):
        env.from_string("{{ nothing('x') }}").render()
