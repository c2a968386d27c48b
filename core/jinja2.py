"""The Jinja2 environment for hot partials (cards, calendar cells, console rows) that Django templates include.

A page stays one Django template; where a repeated fragment's rendering cost shows in a bench, that fragment may be a
Jinja2 partial under templates/jinja2/<app>/_<name>.html, included with `{% jinja "<app>/_<name>.html" key=value %}`
(core/templatetags/jinja.py). It sees the same filters (`kes`, `phone`), `url()` and `static()`, the request and
its CSP nonce, and autoescapes as Django does.
"""

import functools
import io
import re
from collections.abc import Hashable, Iterable
from urllib.parse import urlencode

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.middleware.csp import get_nonce
from django.template import engines
from django.templatetags.static import static as static_url
from django.utils.html import format_html
from django.utils.html import linebreaks as linebreaks_html
from django.utils.translation import get_language
from django_htmx.jinja import htmx_script as django_htmx_script
from jinja2 import Environment, Template, nodes
from jinja2.compiler import CodeGenerator, optimizeconst
from jinja2.utils import _PassArg
from markupsafe import Markup, _escape_inner  # the C escaping escape() calls (its pure-Python one where not built)

from core.money import format_kes
from core.phone import format_phone
from core.reverse import reverse


def kes(value) -> str:
    """As the Django `kes` filter: 12500 -> 'KES 12,500'."""
    if value is None or value == "":
        return ""
    return format_kes(int(value))


def phone(value) -> str:
    """As the Django `phone` filter: 254712345149 -> '0712 345 149'."""
    return format_phone(str(value or ""))


# A static file's URL is the same for the whole life of a process (the manifest is read once), so each is worked out
# once, as URLs are (core/reverse.py). Why: the layout's four static URLs and the account menu's seven URLs cost
# 0.45 ms of the 0.9 ms a 404 page takes in one process (cProfile), on every page; bench/demo_pages.py prints the
# pages' ratios to /healthz.
@functools.cache
def static(path: str) -> str:
    return static_url(path)


def pluralize(count) -> str:
    """As Django's `pluralize` with no argument: "s" unless the count is 1."""
    return "" if count == 1 else "s"


def linebreaks(text) -> Markup:
    """As Django's `linebreaks`: paragraphs and line breaks, the text escaped."""
    return _paragraphs(str(text or ""))


# A text's paragraphs are the same every time: the property page prints its listing's description and house rules
# (8 us each on every view; bench/instructions.py, property page: 9.77 -> 9.61 M instructions).
@functools.lru_cache(maxsize=512)
def _paragraphs(text: str) -> Markup:
    return Markup(ascii_html(linebreaks_html(text, autoescape=True)))  # noqa: S704


def url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args, kwargs=kwargs)


@receiver(setting_changed)
def _forget_urls(*, setting: str, **kwargs) -> None:
    """Tests that change where static files live get fresh URLs (core/reverse.py forgets the others), and fresh
    remembered texts (their URLs, or their language's names, may have changed)."""
    if setting in {"STATIC_URL", "STATIC_ROOT", "STORAGES", "DEBUG"}:
        static.cache_clear()
    if setting in {"STATIC_URL", "STATIC_ROOT", "STORAGES", "DEBUG", "MEDIA_URL", "MEDIA_ROOT", "LANGUAGES"}:
        forget_remembered()


def querystring(request, **changes) -> str:
    """As {% querystring key=value %}: "?" and the request's query with `changes` (None drops a key), the same text.
    Written out: Django's tag copies the query into a new QueryDict first, 18 us for the search page's link to its
    next page against 5 (bench/instructions.py, dated search: 10.80 -> 10.64 M instructions)."""
    values = dict(request.GET.lists())
    for key, value in changes.items():
        listed = (
            [value]
            if isinstance(value, str) or not isinstance(value, Iterable)
            else [v for v in value if v is not None]
        )
        if value is None or not listed:
            values.pop(key, None)
        else:
            values[key] = listed
    return "?" + urlencode([(key, str(value)) for key, listed in values.items() for value in listed])


def htmx_script(*, nonce: str) -> Markup:
    """django-htmx's htmx_script(nonce=...): htmx 2's script tag, with its static URL worked out once a process like
    the layout's others (django-htmx's looks it up on every page: 3% of the property page's time, py-spy); with
    DEBUG on, django-htmx's own, which adds its debugging script."""
    if settings.DEBUG:
        return Markup(django_htmx_script(nonce=nonce))  # noqa: S704 (django-htmx escapes its values)
    tag = format_html('<script src="{}" defer nonce="{}"></script>', static("django_htmx/htmx-2.min.js"), nonce)
    return Markup(tag)  # noqa: S704 (format_html escaped the values)


def csp_nonce(request) -> str:
    """The request's nonce, generated on first use as {% csp_nonce %} does (a LazyNonce not yet used is falsy)."""
    nonce = get_nonce(request) if request is not None else None
    return "" if nonce is None else str(nonce)


def ascii_html(text: str) -> str:
    """HTML text in ASCII: each character beyond ASCII as a character reference, which a browser reads as the same
    character in text and in attribute values (not inside <script> or <style>, which no partial prints into)."""
    return text if text.isascii() else text.encode("ascii", "xmlcharrefreplace").decode("ascii")


def escaped_output(value) -> str:
    """A value as an autoescaped template prints it: the text of markupsafe's escape(value), without making it a
    Markup first (a piece of a template's output is joined with the rest and never escaped again), in ASCII
    (ascii_html; _CodeGenerator says why)."""
    if type(value) is str:
        text = _escape_inner(value)
    elif hasattr(value, "__html__"):
        text = value.__html__()
    else:
        text = _escape_inner(str(value))
    # ascii_html written out: a page prints 250-350 values, and most are ASCII already.
    return text if text.isascii() else text.encode("ascii", "xmlcharrefreplace").decode("ascii")


class _CodeGenerator(CodeGenerator):
    """Jinja2's code generator, but a printed value is escaped by escaped_output rather than by escape(), which builds
    a Markup of each in two Python calls (0.4 of a microsecond) only for the page to join them: a page prints 250-350
    values. Instructions a request (bench/instructions.py): dated search 13.39 -> 12.36 M, property page 11.83 ->
    10.47 M; bench/demo_pages.py prints the pages' ratios to /healthz.

    And what a partial prints is ASCII, its text and its values alike (ascii_html): one character beyond ASCII (a
    "·", a "★") makes Python hold the whole page at two bytes a character, so that every join widens its ASCII
    pieces and the response is encoded to UTF-8 character by character rather than copied (51 us for the property
    page's 33 KB against 1). Instructions a request (bench/instructions.py): property page 7.60 -> 7.00 M, dated search
    9.59 -> 9.07 M; bench/demo_pages.py prints their ratios to /healthz."""

    def _output_child_to_const(self, node, frame, finalize) -> str:
        const = super()._output_child_to_const(node, frame, finalize)
        return ascii_html(const) if frame.eval_ctx.autoescape else const

    def _output_child_pre(self, node, frame, finalize) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("environment.escaped_output(")
            if finalize.src is not None:
                self.write(finalize.src)
            return
        super()._output_child_pre(node, frame, finalize)

    @optimizeconst
    def visit_Getattr(self, node, frame) -> None:
        """`a.b` as Python's getattr(a, "b") where `a` has such an attribute, in the template's own code; Jinja2's
        environment.getattr (then a["b"], then undefined) only where it has not: a page reads 450-500 attributes, and
        a call of environment.getattr for each cost 0.9% of the dated search's and the property page's instructions
        (bench/instructions.py: 11.48 -> 11.38 M and 9.98 -> 9.89 M)."""
        if self.environment.is_async:
            super().visit_Getattr(node, frame)
            return
        self.write("(_attr if (_attr := getattr((_owner := ")
        self.visit(node.node, frame)
        self.write(f"), {node.attr!r}, missing)) is not missing else environment.getattr(_owner, {node.attr!r}))")

    @optimizeconst
    def visit_Call(self, node, frame, forward_caller: bool = False) -> None:
        """A call of one of the environment's own functions (`url()`, `static()`, ...) as a plain Python call in the
        template's code; any other callable through Jinja2's context.call as before, which looks for the arguments
        Jinja2 passes to some callables (two failed attribute look-ups a call) and strips the loop's and the
        block's variables from the call. Instructions a request (bench/instructions.py): property page 6.44 -> 6.38 M,
        dated search 9.07 -> 9.06 M, and a search's twelve remembered cards (listings/_cards.html) cost less."""
        if self.environment.is_async or self.environment.sandboxed or forward_caller:
            super().visit_Call(node, frame, forward_caller=forward_caller)
            return
        plain_stream, self.stream = self.stream, io.StringIO()
        try:
            self.signature(node, frame)
            arguments = self.stream.getvalue().removeprefix(", ")
        finally:
            self.stream = plain_stream
        self.write("(_call(" + arguments + ") if id(_call := ")
        self.visit(node.node, frame)
        self.write(") in environment.plain_call_ids else ")
        super().visit_Call(node, frame)
        self.write(")")

    def visit_Output(self, node, frame) -> None:
        """A run of output between two statements as one `yield` of its pieces joined, where Jinja2 yields each
        piece: the page joins them anyway, and resuming the render for every piece of text and every value costs
        more than joining them where they are made. Instructions a request (bench/instructions.py): property page
        10.17 -> 9.98 M (its calendar's cells), dated search 11.52 -> 11.48 M."""
        if frame.buffer is not None or frame.require_output_check or len(node.nodes) < 2:
            super().visit_Output(node, frame)
            return
        finalize = self._make_finalize()
        self.writeline('yield "".join((')
        self.indent()
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                self.writeline(self._output_const_repr([self._output_child_to_const(child, frame, finalize)]) + ",")
                continue
            self.newline(child)
            self._output_child_pre(child, frame, finalize)
            self.visit(child, frame)
            self._output_child_post(child, frame, finalize)
            self.write(",")
        self.outdent()
        self.writeline("))")


# A line's indentation, or a <pre> or a <textarea> whole (whose spaces are shown): Environment.preprocess.
_INDENTATION_OR_KEPT = re.compile(r"(<(pre|textarea)\b.*?</\2\s*>)|\n[ \t]+", re.IGNORECASE | re.DOTALL)

# The most templates an environment keeps by name (a page's partials and the templates they include are a few dozen).
_TEMPLATES_MOST = 256


class _Environment(Environment):
    code_generator_class = _CodeGenerator
    escaped_output = staticmethod(escaped_output)

    def __init__(self, **options):
        super().__init__(**options)
        self._templates_by_name: dict[tuple, Template] = {}

    def template(self, name: str) -> Template:
        """get_template(name), but where templates are not reloaded (DEBUG off) each is kept by loader and name in a
        dict: Jinja2's own cache makes a weak reference and takes a lock and its LRU queue on every look-up (6.5 k
        instructions), and a search page looks up a partial or an included template about 20 times
        (bench/instructions.py, dated search: 7.997 -> 7.877 M instructions with the partials kept by name)."""
        if self.auto_reload:
            return self.get_template(name)
        key = (self.loader, name)
        template = self._templates_by_name.get(key)
        if template is None:
            if len(self._templates_by_name) >= _TEMPLATES_MOST:
                self._templates_by_name.clear()
            template = self._templates_by_name[key] = super()._load_template(name, None)
        return template

    def _load_template(self, name, globals):
        """The templates a partial includes, kept as template() keeps them."""
        if self.auto_reload or globals:
            return super()._load_template(name, globals)
        return self.template(name)

    def preprocess(self, source: str, name: str | None = None, filename: str | None = None) -> str:
        """The template's source with the indentation of its lines left out, but for what a <pre> or a <textarea>
        holds: a line break stays where there was one, so a browser shows the page as before.

        Why: indentation was 18% of the property page (5.9 of its 32 KB, nearly all of it the calendar's cells),
        bytes that every response copies, compresses and sends: 7.30 -> 7.17 M instructions a request for the
        property page compressed (bench/instructions.py --accept-gzip); bench/demo_pages.py --gzip-too prints its
        ratio to /healthz."""
        source = super().preprocess(source, name, filename)
        return _INDENTATION_OR_KEPT.sub(lambda match: match.group(1) or "\n", source)

    def make_globals(self, d):
        """A template's globals as one dict, not Jinja2's ChainMap over the environment's: every render copies them
        into its context, and copying a ChainMap is a Python loop (a page renders about ten partials). The
        environment's globals are all set below, before any template is loaded."""
        return {**self.globals, **(d or {})}


def environment(**options) -> Environment:
    env = _Environment(**options)
    env.filters.update(kes=kes, phone=phone, pluralize=pluralize, linebreaks=linebreaks)
    env.globals.update(
        url=url,
        static=static,
        querystring=querystring,
        csp_nonce=csp_nonce,
        htmx_script=htmx_script,
        remembered_blocks=remembered_blocks,
        remembered_each=remembered_each,
    )
    env.plain_call_ids = frozenset(id(function) for function in env.globals.values() if _called_as_it_is(function))
    return env


def _called_as_it_is(function) -> bool:
    """Whether Jinja2's context.call calls `function` with the template's arguments only (no context, evaluation
    context or environment first): the same test it makes on every call."""
    if not callable(function) or _PassArg.from_obj(function) is not None:
        return False
    return _PassArg.from_obj(type(function).__call__) is None


# The texts remembered_blocks keeps, by (template, key, language). A process keeps at most _REMEMBERED_MOST and
# forgets them all when it would keep more: a remembered text is a few kilobytes, and a new key costs one rendering.
_remembered: dict[tuple, dict[str, Markup]] = {}
_REMEMBERED_MOST = 512


def remembered_blocks(template_name: str, key: Hashable, **values) -> dict[str, Markup]:
    """The partial's blocks, each rendered with `values` alone, by name; kept in this process, so that a later call
    with the same partial, key and active language gives the same texts without rendering them again.

    `key` must be the data everything the blocks print comes from, as read on this request (the rows themselves, not
    an id): a row that changed is another key, so that no text outlives its data. It is a memory of a rendering, not
    a cache of a page. The blocks see only `values` (no request, no nonce, no token). A template that changed (Jinja2
    reloads it with DEBUG on) is another template, and another key."""
    template = engines["jinja2"].env.template(template_name)
    entry = (template, key, get_language())
    texts = _remembered.get(entry)
    if texts is None:
        if len(_remembered) >= _REMEMBERED_MOST:
            _remembered.clear()
        context = template.new_context(values)
        texts = {name: Markup("".join(block(context))) for name, block in template.blocks.items()}  # noqa: S704
        _remembered[entry] = texts
    return texts


# The texts remembered_each keeps: by (template, language), each item's text by the item. A process keeps at most
# _REMEMBERED_EACH_MOST texts of a partial in a language and forgets them all when it would keep more: a calendar
# day's text is about 450 bytes.
_remembered_each: dict[tuple, dict[Hashable, str]] = {}
_REMEMBERED_EACH_MOST = 4096


def remembered_each(template_name: str, name: str, items: Iterable[Hashable]) -> Markup:
    """The partial rendered for each of `items` (as `name`, and with nothing else), the texts joined; each text kept
    in this process, so that an equal item later (same partial, same active language) gives it without rendering.

    An item must be everything its text is printed from, and two items equal only where they print the same (a
    named tuple of what the partial prints, say): as remembered_blocks' key, the item is the data, never an id."""
    template = engines["jinja2"].env.template(template_name)
    entry = (template, get_language())
    texts = _remembered_each.get(entry)
    if texts is None:
        if len(_remembered_each) >= _REMEMBERED_MOST:
            _remembered_each.clear()
        texts = _remembered_each[entry] = {}
    printed = []
    for item in items:
        text = texts.get(item)
        if text is None:
            if len(texts) >= _REMEMBERED_EACH_MOST:
                texts.clear()
            text = texts[item] = "".join(template.root_render_func(template.new_context({name: item})))
        printed.append(text)
    return Markup("".join(printed))  # noqa: S704 (the partial escaped what it printed)


def forget_remembered() -> None:
    """Forget every text remembered_blocks and remembered_each keep (as a change of settings does)."""
    _remembered.clear()
    _remembered_each.clear()


def render_partial(template_name: str, values: dict, request) -> str:
    """The Jinja2 partial `template_name` rendered with `values` and the request, by Jinja2 itself rather than
    through Django's Jinja2 template: no partial reads the CSRF token that one adds to every render (a partial that
    needs it is given it), and a page renders four or five partials (bench/demo_pages.py)."""
    return engines["jinja2"].env.template(template_name).render({**values, "request": request})
