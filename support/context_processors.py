from django.utils.functional import SimpleLazyObject

from support.selectors.menu import account_menu as account_menu_for


def account_menu(request) -> dict:
    """`account_menu` for the layout's account menu, read only when a page shows the menu."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"account_menu": SimpleLazyObject(lambda: account_menu_for(user))}
