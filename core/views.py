from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.utils import Error as DatabaseError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache as django_never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from core.forms import ProfileForm
from core.htmx import HtmxHttpRequest, is_fragment_request
from core.selectors import user_email_verified
from core.services import user_update_profile


# Django's own never_cache, not core.cache_control's: /healthz is the yardstick the read path's benches divide by
# (bench/common.py), and making it cheaper would move every page's ratio without the page changing.
@django_never_cache
@require_GET
def healthz(request: HtmxHttpRequest) -> HttpResponse:
    """200 when the database answers, 503 when it does not. No session, no template."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def profile(request: HtmxHttpRequest) -> HttpResponse:
    """The signed-in person's name and M-Pesa number. An htmx POST with action=check-phone only checks the number."""
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "GET":
        context = {
            "form": form,
            "phone_hint": form.phone_hint,
            "email_verified": user_email_verified(user=request.user),
        }
        return render(request, "core/profile.html", context)
    if is_fragment_request(request) and request.POST.get("action") == "check-phone":
        form.is_valid()
        status = 422 if "mpesa_phone" in form.errors else 200
        context = {"form": form, "phone_hint": "" if status == 422 else form.phone_hint}
        return render(request, "core/profile.html#phone-field", context, status=status)
    if not form.is_valid():
        context = {"form": form, "email_verified": user_email_verified(user=request.user)}
        return render(request, "core/profile.html", context, status=422)
    user_update_profile(
        user=request.user,
        full_name=form.cleaned_data["full_name"],
        mpesa_phone=form.cleaned_data["mpesa_phone"],
    )
    messages.success(request, _("Your profile was saved."))
    return redirect("profile")


def csrf_failure(request: HtmxHttpRequest, reason: str = "") -> HttpResponse:
    """A stale page: htmx reloads it for a fresh token, a plain form gets a page that says what to do."""
    if getattr(request, "htmx", None):
        response = HttpResponse(status=403)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "403_csrf.html", status=403)


def server_error(request: HtmxHttpRequest) -> HttpResponse:
    template = loader.get_template("500.html")
    return HttpResponse(template.render({}), status=500)
