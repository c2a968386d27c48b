"""{% extends %} as Django's, remembering the template it extends.

Django's tag looks its parent template up on every render (the engine's cached loader, with the history of the
templates above it as the look-up's key) and walks the parent's whole node tree for its blocks; every page extends
the layout, so every page paid for both. Instructions a request (bench/instructions.py): property page 5.84 ->
5.78 M, dated search 7.64 -> 7.58 M; bench/demo_pages.py prints the pages' ratios to /healthz.

The parent is remembered only where the lookup's answer cannot change while this node lives: its name is written in
the tag (not a variable), the template holding the tag is the one being rendered (no history of templates that extend
it), and the engine keeps its templates in its cached loader, which parsed this node and forgets it with the parent
when templates change (the development server's autoreload, a change of settings in tests).
"""

from typing import NamedTuple

from django import template
from django.template.base import Template, TextNode
from django.template.loader_tags import BLOCK_CONTEXT_KEY, BlockContext, BlockNode, ExtendsNode, do_extends
from django.template.loaders.cached import Loader as CachedLoader

register = template.Library()


class _Parent(NamedTuple):
    engine: object
    template: Template
    blocks: dict[str, BlockNode] | None  # the parent's own blocks when it extends nothing itself


class RememberingExtendsNode(ExtendsNode):
    def __init__(self, nodelist, parent_name, template_dirs=None):
        super().__init__(nodelist, parent_name, template_dirs)
        self.parent_is_literal = isinstance(parent_name.var, str) and not parent_name.filters
        self.remembered: _Parent | None = None

    def render(self, context):
        if not self.parent_is_literal or self.context_key in context.render_context:
            return super().render(context)
        engine = context.template.engine
        parent = self.remembered
        if parent is None or parent.engine is not engine:
            if not _caches_templates(engine):
                return super().render(context)
            parent = self.remembered = self._parent(context, engine)
        else:
            context.render_context[self.context_key] = [self.origin, parent.template.origin]
        if BLOCK_CONTEXT_KEY not in context.render_context:
            context.render_context[BLOCK_CONTEXT_KEY] = BlockContext()
        block_context = context.render_context[BLOCK_CONTEXT_KEY]
        block_context.add_blocks(self.blocks)
        if parent.blocks is not None:
            block_context.add_blocks(parent.blocks)
        with context.render_context.push_state(parent.template, isolated_context=False):
            return parent.template._render(context)

    def _parent(self, context, engine) -> _Parent:
        """The parent as Django's tag finds it (leaving the same history), with its blocks as Django's tag adds them:
        only for a parent that extends nothing itself (the root, whose own blocks are the defaults)."""
        compiled_parent = self.get_parent(context)
        blocks = None
        for node in compiled_parent.nodelist:
            if not isinstance(node, TextNode):
                if not isinstance(node, ExtendsNode):
                    blocks = {n.name: n for n in compiled_parent.nodelist.get_nodes_by_type(BlockNode)}
                break
        return _Parent(engine=engine, template=compiled_parent, blocks=blocks)


def _caches_templates(engine) -> bool:
    return all(isinstance(loader, CachedLoader) for loader in engine.template_loaders)


@register.tag("extends")
def extends(parser, token) -> RememberingExtendsNode:
    node = do_extends(parser, token)
    return RememberingExtendsNode(node.nodelist, node.parent_name)
