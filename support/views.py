"""The support console under /support/. Every URL needs its permission: anonymous visitors are sent to sign in,
signed-in people without it get a 404, and support accounts without two-factor sign-in are refused when
DJANGO_DEBUG is off."""

import csv
import functools
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from core.cache_control import never_cache
from core.clock import local_time
from core.htmx import HTMX_STOP_POLLING, HtmxHttpRequest, is_fragment_request
from mpesa.models import Payment, SupportAction
from mpesa.refunds import refund_approval_refusal
from support.forms import ActionForm, LinkForm, QueryForm, RefundForm, ResolveForm, SearchForm
from support.selectors import (
    attention_items,
    console_agent,
    payment_detail,
    payment_search,
    payment_search_page,
    refund_get,
    support_today,
)
from support.services import (
    SupportError,
    attention_resolve,
    callback_link,
    export_record,
    payment_query_status,
    payment_query_stk,
    refund_approve,
    refund_request,
)

# Each console permission's codename, as SupportAction declares them (app label mpesa).
PERMISSIONS = tuple(codename for codename, _label in SupportAction._meta.permissions)
HOME = "support/home.html"
ATTENTION = "support/attention.html"
DETAIL = "support/payment_detail.html"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def support_access(permission: str):
    """Sign-in page for anonymous visitors, 404 without the permission, refusal without TOTP in production.
    `permission` is a console permission's codename, or "app_label.codename" for another app's."""
    assert permission in PERMISSIONS or "." in permission
    qualified = permission if "." in permission else f"mpesa.{permission}"

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.has_perm(qualified):
                raise Http404
            agent = console_agent(user)  # one query: the second factor, and the account menu for the layout
            if not settings.DEBUG and not agent.second_factor:
                return render(request, "support/mfa_required.html", status=403)
            request.account_menu = agent.menu
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _perms(user) -> dict:
    return {name: user.has_perm(f"mpesa.{name}") for name in PERMISSIONS}


# ---------------------------------------------------------------------------------------------------------------
# Search.


@require_GET
@support_access("view_transactions")
@never_cache
@vary_on_headers("HX-Request")
def support_home(request: HtmxHttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    context = {"form": form, "perms_console": _perms(request.user)}
    status = 200
    if form.is_valid():
        filters = form.filters()
        context["results"] = payment_search_page(filters=filters, page=form.cleaned_data.get("page") or 1)
        context["query"] = urlencode(form.query_params())
        context["searched"] = bool(filters.as_dict())
    else:
        status = 422
    if is_fragment_request(request):
        return render(request, HOME + "#support-results", context, status=status)
    context["today"] = support_today()
    return render(request, HOME, context, status=status)


class _Echo:
    def write(self, value: str) -> str:
        return value


def neutralise(value) -> str:
    """A cell a spreadsheet would read as a formula is prefixed with an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


EXPORT_COLUMNS = [
    "payment",
    "created_at_eat",
    "booking",
    "guest",
    "guest_email",
    "listing",
    "phone",
    "amount_kes",
    "status",
    "receipt",
    "checkout_request_id",
    "result_code",
    "flag",
]


@require_GET
@support_access("export_transactions")
def support_export(request: HtmxHttpRequest) -> HttpResponse:
    """The current search as CSV, streamed row by row, its filters in the file name. Audited."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            "The filters are not valid: " + "; ".join(e for errors in form.errors.values() for e in errors),
            status=422,
            content_type="text/plain; charset=utf-8",
        )
    filters = form.filters()
    export_record(actor=request.user, filters=filters.as_dict())
    rows = (
        payment_search(filters=filters)
        .values_list(
            "pk",
            "created_at",
            "booking__ref",
            "booking__booker__full_name",
            "booking__booker__email",
            "booking__listing__title",
            "phone",
            "amount_kes",
            "status",
            "receipt",
            "checkout_request_id",
            "result_code",
            "flag",
        )
        .iterator(chunk_size=2000)
    )
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            row = list(row)
            row[1] = local_time(row[1]).strftime("%Y-%m-%d %H:%M:%S")
            yield writer.writerow([neutralise(value) for value in row])

    parts = ["payments"] + [f"{key}-{value}" for key, value in filters.as_dict().items()]
    name = slugify("_".join(parts).replace("_", "--"))[:120] or "payments"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


# ---------------------------------------------------------------------------------------------------------------
# Attention.


def _attention_context(request, *, forms: dict | None = None, error: str = "", error_key: str = "") -> dict:
    attention = attention_items()
    forms = forms or {}
    perms = _perms(request.user)
    can_approve = perms["approve_refund"]
    for item in attention.items:
        item.resolve_form = forms.get(("resolve", item.key)) or ResolveForm(
            initial={"kind": item.kind, "object_id": item.object_id}
        )
        if item.kind == "unmatched":
            item.link_form = forms.get(("link", item.key)) or LinkForm(initial={"event_id": item.object_id})
        if item.kind == "refund":
            item.approve_form = forms.get(("approve", item.key)) or ActionForm()
            item.can_approve = can_approve and not refund_approval_refusal(refund=item.refund, user=request.user)
    keys = {item.key for item in attention.items}
    # A refused form whose item is no longer listed still needs its message shown.
    general_error = ""
    if any(item_key not in keys for _action, item_key in forms):
        general_error = error or _("This item is no longer in the list, or the form was not valid.")
    return {
        "attention": attention,
        "perms_console": perms,
        "error": error,
        "error_key": error_key,
        "general_error": general_error,
    }


def _attention_response(request, context: dict, *, status: int = 200) -> HttpResponse:
    if not is_fragment_request(request):
        if request.method == "POST" and status == 200:
            return redirect("support:attention")
        return render(request, ATTENTION, context, status=status)
    response = render(request, ATTENTION + "#attention-list", context, status=status)
    if request.method == "GET" and not context["attention"].polling:
        response.status_code = HTMX_STOP_POLLING
    return response


@require_GET
@support_access("view_transactions")
@never_cache
@vary_on_headers("HX-Request")
def support_attention(request: HtmxHttpRequest) -> HttpResponse:
    context = _attention_context(request)
    if is_fragment_request(request) and request.GET.get("seen") == context["attention"].signature:
        return HttpResponse(status=204)  # nothing new: keep the list, and any note being typed, as it is
    return _attention_response(request, context)


@require_POST
@support_access("resolve_exception")
def attention_resolve_view(request: HtmxHttpRequest) -> HttpResponse:
    form = ResolveForm(request.POST)
    if not form.is_valid():
        item_key = f"{request.POST.get('kind', '')}-{request.POST.get('object_id', '')}"[:60]
        context = _attention_context(request, forms={("resolve", item_key): form})
        return _attention_response(request, context, status=422)
    item_key = f"{form.cleaned_data['kind']}-{form.cleaned_data['object_id']}"
    try:
        attention_resolve(
            actor=request.user,
            kind=form.cleaned_data["kind"],
            object_id=form.cleaned_data["object_id"],
            note=form.cleaned_data["reason"],
            key=form.cleaned_data["key"],
        )
    except SupportError as error:
        context = _attention_context(request, forms={("resolve", item_key): form}, error=str(error), error_key=item_key)
        return _attention_response(request, context, status=422)
    return _attention_response(request, _attention_context(request))


@require_POST
@support_access("resolve_exception")
def callback_link_view(request: HtmxHttpRequest) -> HttpResponse:
    form = LinkForm(request.POST)
    item_key = f"unmatched-{request.POST.get('event_id', '')}"[:60]
    if not form.is_valid():
        return _attention_response(request, _attention_context(request, forms={("link", item_key): form}), status=422)
    try:
        callback_link(
            actor=request.user,
            event_id=form.cleaned_data["event_id"],
            payment_id=form.cleaned_data["payment_id"],
            note=form.cleaned_data["reason"],
            key=form.cleaned_data["key"],
        )
    except SupportError as error:
        context = _attention_context(request, forms={("link", item_key): form}, error=str(error), error_key=item_key)
        return _attention_response(request, context, status=422)
    return _attention_response(request, _attention_context(request))


# ---------------------------------------------------------------------------------------------------------------
# One payment.


def _detail_context(request, payment_id: int, *, forms: dict | None = None, error: str = "", form_name: str = ""):
    detail = payment_detail(payment_id=payment_id)
    forms = forms or {}
    payment = detail.payment
    perms = _perms(request.user)
    for refund in detail.refunds:
        refund.approve_form = forms.get(("approve", refund.pk)) or ActionForm()
        refund.can_approve = perms["approve_refund"] and not refund_approval_refusal(refund=refund, user=request.user)
    return {
        "detail": detail,
        "payment": payment,
        "booking": detail.booking,
        "perms_console": perms,
        "query_form": forms.get("query") or QueryForm(initial={"receipt": payment.receipt or payment.guest_code}),
        "refund_form": forms.get("refund") or RefundForm(initial={"amount_kes": detail.refundable_kes or None}),
        "error": error,
        "form_name": form_name,
    }


def _detail_response(request, payment_id: int, context: dict, *, status: int = 200) -> HttpResponse:
    if not is_fragment_request(request):
        if request.method == "POST" and status == 200:
            return redirect("support:payment", payment_id=payment_id)
        return render(request, DETAIL, context, status=status)
    return render(request, DETAIL + "#payment-page", context, status=status)


def _payment_or_404(payment_id: int) -> Payment:
    payment = Payment.objects.filter(pk=payment_id).only("pk").first()
    if payment is None:
        raise Http404
    return payment


@require_GET
@support_access("view_transactions")
@never_cache
@vary_on_headers("HX-Request")
def payment_page(request: HtmxHttpRequest, payment_id: int) -> HttpResponse:
    context = _detail_context(request, payment_id)
    if is_fragment_request(request):
        response = render(request, DETAIL + "#payment-timeline", context)
        if not context["detail"].awaiting_result:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, DETAIL, context)


@require_POST
@support_access("query_mpesa")
def payment_query_view(request: HtmxHttpRequest, payment_id: int) -> HttpResponse:
    def ask(data: dict) -> None:
        if data["kind"] == "stk":
            payment_query_stk(actor=request.user, payment_id=payment_id, reason=data["reason"], key=data["key"])
        else:
            payment_query_status(
                actor=request.user,
                payment_id=payment_id,
                receipt=data["receipt"],
                reason=data["reason"],
                key=data["key"],
            )

    return _payment_action(request, payment_id, form=QueryForm(request.POST), form_name="query", action=ask)


@require_POST
@support_access("request_refund")
def payment_refund_view(request: HtmxHttpRequest, payment_id: int) -> HttpResponse:
    def refund(data: dict) -> None:
        refund_request(
            actor=request.user,
            payment_id=payment_id,
            amount_kes=data["amount_kes"],
            method=data["method"],
            manual_reference=data["manual_reference"],
            reason=data["reason"],
            key=data["key"],
        )

    return _payment_action(request, payment_id, form=RefundForm(request.POST), form_name="refund", action=refund)


def _payment_action(request, payment_id: int, *, form, form_name: str, action) -> HttpResponse:
    """One of the payment page's forms: refused input or a refused action comes back in its form (422), else the
    page (or its fragment) as it is now."""
    _payment_or_404(payment_id)
    error = ""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except SupportError as exc:
            error = str(exc)
        else:
            return _detail_response(request, payment_id, _detail_context(request, payment_id))
    context = _detail_context(request, payment_id, forms={form_name: form}, error=error, form_name=form_name)
    return _detail_response(request, payment_id, context, status=422)


@require_POST
@support_access("approve_refund")
def refund_approve_view(request: HtmxHttpRequest, refund_id: int) -> HttpResponse:
    refund = refund_get(refund_id=refund_id)
    from_attention = request.POST.get("return_to") == "attention"
    approve_form = ActionForm(request.POST)
    error = ""
    status = 200
    if approve_form.is_valid():
        try:
            refund_approve(
                actor=request.user,
                refund_id=refund.pk,
                reason=approve_form.cleaned_data["reason"],
                key=approve_form.cleaned_data["key"],
            )
        except SupportError as exc:
            error, status = str(exc), 422
    else:
        status = 422
    if from_attention:
        item_key = f"refund-{refund.pk}"
        forms = {("approve", item_key): approve_form} if status != 200 else {}
        context = _attention_context(request, forms=forms, error=error, error_key=item_key if error else "")
        return _attention_response(request, context, status=status)
    forms = {("approve", refund.pk): approve_form} if status != 200 else {}
    context = _detail_context(request, refund.payment_id, forms=forms, error=error, form_name=f"approve-{refund.pk}")
    return _detail_response(request, refund.payment_id, context, status=status)
