from django.utils.functional import SimpleLazyObject

from support.selectors.menu import account_menu as account_menu_for


def account_menu(request) -> dict:
    """`account_menu` for the layout's account menu, read only when a page shows the menu (console pages have read
    it already, with the agent's second factor: support.views.support_access)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        # None rather than absent: the layout passes it on, and a name missing from a Django template's context is
        # looked up through an exception (6 us on every page a visitor reads; bench/instructions.py).
        return {"account_menu": None}
    menu = getattr(request, "account_menu", None)
    if menu is not None:
        return {"account_menu": menu}
    return {"account_menu": SimpleLazyObject(lambda: account_menu_for(user))}
