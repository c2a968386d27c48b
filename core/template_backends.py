"""Django's template backend, with a rendered page's context emptied (core/wsgi.py says why)."""

from django.template.backends.django import DjangoTemplates as DjangoTemplatesBackend
from django.template.backends.django import Template as DjangoBackendTemplate
from django.template.backends.django import reraise
from django.template.context import make_context
from django.template.exceptions import TemplateDoesNotExist


class Template(DjangoBackendTemplate):
    def render(self, context=None, request=None) -> str:
        """As Django's backend renders, then the context emptied: each level of a Django template context refers
        back to the context (for `with`), so a context and every value given to the page formed a cycle that only
        the garbage collector freed."""
        context = make_context(context, request, autoescape=self.backend.engine.autoescape)
        try:
            content = self.template.render(context)
        except TemplateDoesNotExist as exc:
            reraise(exc, self.backend)
        context.dicts.clear()
        return content


class DjangoTemplates(DjangoTemplatesBackend):
    def from_string(self, template_code) -> Template:
        return Template(self.engine.from_string(template_code), self)

    def get_template(self, template_name) -> Template:
        try:
            return Template(self.engine.get_template(template_name), self)
        except TemplateDoesNotExist as exc:
            reraise(exc, self)
