"""The console's search: payments by receipt, phone, reference or a fragment of a name, with filters, a page at a time,
and today's figures. Every page costs the same number of queries however much data there is."""

import datetime
import functools
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from core.clock import NAIROBI, local_date
from core.dates import date_names
from core.phone import normalise_phone
from core.prepared import execute
from core.reverse import reverse
from mpesa.models import Payment, Refund
from mpesa.search_text import search_normalise
from reservations.models import Booking

PAGE_SIZE = 25
_MOMENT_TEXT = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d)?")
RECEIPT_SHAPE = re.compile(r"^(?=.*[0-9])(?=.*[A-Z])[A-Z0-9]{10}$")
# M-Pesa receipts can be letters only ("UKPVCEVXHY"); so can a name fragment. Such a text is searched as both.
RECEIPT_OR_WORD_SHAPE = re.compile(r"^[A-Z]{10}$")
REF_SHAPE = re.compile(r"^NX-?([0-9A-Z]{6})$")
# Digits with the separators people read numbers out with: searched as a phone number, never as a name.
PHONE_SHAPE = re.compile(r"[\d\s+\-().]{9,20}")


def looks_like_phone(text: str) -> bool:
    return PHONE_SHAPE.fullmatch(text) is not None


@dataclass(frozen=True)
class SearchFilters:
    q: str = ""
    status: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    amount_min: int | None = None
    amount_max: int | None = None

    def as_dict(self) -> dict:
        values = {
            "q": self.q,
            "status": self.status,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "min": "" if self.amount_min is None else str(self.amount_min),
            "max": "" if self.amount_max is None else str(self.amount_max),
        }
        return {key: value for key, value in values.items() if value}


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=NAIROBI)


def _key_q(text: str) -> Q | None:
    """What a caller might read out that names a payment exactly: receipt (or the code a guest typed),
    CheckoutRequestID, phone number, booking reference. Answered through their own indexes."""
    upper = text.upper()
    if upper.startswith("WS_CO_"):
        return Q(checkout_request_id=text)
    if RECEIPT_SHAPE.match(upper):
        return Q(receipt=upper) | Q(guest_code=upper)
    ref = REF_SHAPE.match(upper.replace(" ", ""))
    if ref:
        return Q(booking__ref=f"NX-{ref.group(1)}")
    if looks_like_phone(text):
        try:
            return Q(phone=normalise_phone(text))
        except ValidationError:  # SearchForm refuses such text; a caller without the form finds nothing
            return Q(pk__in=[])
    return None


def _filter_text(payments: QuerySet[Payment], text: str) -> QuerySet[Payment]:
    key = _key_q(text)
    if key is not None:
        return payments.filter(key)
    # A fragment of a name, e-mail address or listing title: one column, lower-cased like the fragment, read through
    # its trigram index on PostgreSQL (mpesa.search_text). SQLite's LIKE reads every row (fine at make run sizes).
    by_name = payments.filter(search_text__contains=search_normalise(text))
    upper = text.upper()
    if RECEIPT_OR_WORD_SHAPE.match(upper):
        return payments.filter(Q(receipt=upper) | Q(guest_code=upper)) | by_name
    return by_name


def payment_search(*, filters: SearchFilters) -> QuerySet[Payment]:
    """Payments matching the filters, newest first (dates are Nairobi days)."""
    payments = Payment.objects.all()
    if filters.q:
        payments = _filter_text(payments, filters.q)
    if filters.status:
        payments = payments.filter(status=filters.status)
    if filters.date_from:
        payments = payments.filter(created_at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        payments = payments.filter(created_at__lt=_local_midnight(filters.date_to + datetime.timedelta(days=1)))
    if filters.amount_min is not None:
        payments = payments.filter(amount_kes__gte=filters.amount_min)
    if filters.amount_max is not None:
        payments = payments.filter(amount_kes__lte=filters.amount_max)
    return payments.order_by("-created_at", "-id")


@dataclass(frozen=True)
class SearchRow:
    """One line of the results, read as plain values: a page builds no model instances."""

    pk: int
    ref: str
    guest: str  # the booker's name, or their e-mail address when they gave no name
    amount_kes: int
    status: str
    status_label: str
    phone: str
    receipt: str | None
    listing: str
    created_at: datetime.datetime
    created_iso: str  # created_at in Nairobi time, as the `date:"c"` filter writes it
    created_label: str  # and as `date:"j M Y H:i"` does: "21 Nov 2026 00:30"
    url: str  # the payment's console page


@dataclass(frozen=True)
class SearchPage:
    rows: list[SearchRow]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


@functools.cache
def _rows_sql(size: int) -> str:
    """The rows of a page's payments with their booking, booker and listing, for `size` ids (a page of fewer fills
    the rest with 0, which names no payment); remembered by size, so that another page size (tests set one) has its
    own statement. Written out: on every search, composing it through the ORM took
    four times as long as PostgreSQL took to answer it (bench/support_search.py, one process: building and reading
    the 25 rows, 3.7 ms of CPU through the ORM against 1.7 ms written out). The booker and the listing are scalar
    subqueries of the booking's row rather than joins: PostgreSQL plans that in half the time (0.3 ms against 0.6 ms).

    Apart from the search that picks the ids (_page_ids_sql), and for a fixed number of them, so that PostgreSQL
    plans it once for the statement prepared on the connection: within one statement with the search, whose plan
    depends on the text searched for (a name fragment, a receipt), it was planned anew on every page, 0.35 ms of
    PostgreSQL's CPU a page (bench/support_search.py, "name fragment" and "receipt")."""
    payment, booking = Payment._meta.db_table, Booking._meta.db_table
    user = Booking._meta.get_field("booker").related_model._meta.db_table
    listing = Booking._meta.get_field("listing").related_model._meta.db_table
    return f"""
        SELECT p.id, b.ref,
               (SELECT COALESCE(NULLIF(u.full_name, ''), u.email) FROM {user} u WHERE u.id = b.booker_id),
               p.amount_kes, p.status, p.phone, p.receipt,
               (SELECT l.title FROM {listing} l WHERE l.id = b.listing_id),
               p.created_at
          FROM {payment} p
          JOIN {booking} b ON b.id = p.booking_id
         WHERE p.id IN ({", ".join(["%s"] * size)})
         ORDER BY p.created_at DESC, p.id DESC
    """


def _utc(value: datetime.datetime) -> datetime.datetime:
    # SQLite hands back the stored UTC time without its zone
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)


def _page_ids_sql(filters: SearchFilters) -> tuple[str, list] | None:
    """The ids of the payments payment_search() finds, newest first, as SQL and its parameters (None when the
    filters can match nothing); tests/support/test_search.py compares the two over a grid of searches. Written out:
    composing it through the ORM cost about 0.5 ms of CPU a page, more than the rest of the search together
    (bench/support_search.py --profile receipt)."""
    where, params = [], []
    text = filters.q
    if text:
        upper = text.upper()
        ref = REF_SHAPE.match(upper.replace(" ", ""))
        if upper.startswith("WS_CO_"):
            where.append("checkout_request_id = %s")
            params.append(text)
        elif RECEIPT_SHAPE.match(upper):
            where.append("(receipt = %s OR guest_code = %s)")
            params += [upper, upper]
        elif ref:
            where.append(f"booking_id IN (SELECT id FROM {Booking._meta.db_table} WHERE ref = %s)")
            params.append(f"NX-{ref.group(1)}")
        elif looks_like_phone(text):
            try:
                params.append(normalise_phone(text))
            except ValidationError:  # SearchForm refuses such text; a caller without the form finds nothing
                return None
            where.append("phone = %s")
        else:
            contains = "search_text " + connection.operators["contains"] % "%s"
            pattern = "%" + connection.ops.prep_for_like_query(search_normalise(text)) + "%"
            if RECEIPT_OR_WORD_SHAPE.match(upper):
                where.append(f"(receipt = %s OR guest_code = %s OR {contains})")
                params += [upper, upper, pattern]
            else:
                where.append(contains)
                params.append(pattern)
    if filters.status:
        where.append("status = %s")
        params.append(filters.status)
    if filters.date_from:
        where.append("created_at >= %s")
        params.append(connection.ops.adapt_datetimefield_value(_local_midnight(filters.date_from)))
    if filters.date_to:
        where.append("created_at < %s")
        day_after = _local_midnight(filters.date_to + datetime.timedelta(days=1))
        params.append(connection.ops.adapt_datetimefield_value(day_after))
    if filters.amount_min is not None:
        where.append("amount_kes >= %s")
        params.append(filters.amount_min)
    if filters.amount_max is not None:
        where.append("amount_kes <= %s")
        params.append(filters.amount_max)
    conditions = f"WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT id FROM {Payment._meta.db_table} {conditions} ORDER BY created_at DESC, id DESC", params


@functools.cache
def _status_labels(language: str | None) -> dict[str, str]:
    """The statuses' labels in `language`, translated once per language rather than on every page (with the months'
    names, 20 translations a page: bench/support_search.py --profile "name fragment")."""
    return {value: str(label) for value, label in Payment.Status.choices}


def payment_search_page(*, filters: SearchFilters, page: int = 1) -> SearchPage:
    """Two queries: the page's payment ids (one more tells if there is a next page, so no COUNT over the whole
    table), then those payments with their booking, listing and booker (none when nothing is found)."""
    page = max(page, 1)
    start = (page - 1) * PAGE_SIZE
    # The page's ids first, then their bookings, listings and bookers: the joins are made for one page only.
    search = _page_ids_sql(filters)
    if search is None:
        return SearchPage(rows=[], number=page, has_next=False)
    ids_sql, params = search
    # The search runs as it is, not as a statement prepared on the connection (core.prepared): its best plan depends
    # on the text searched for (the trigram index for a rare name fragment, the newest payments first for a common
    # one; a receipt through its unique and partial indexes), and PostgreSQL's plan for any text read every payment
    # of the 200,000 for a receipt (34 ms of its CPU a page, bench/support_search.py). Planning it costs 0.04 ms.
    page_ids_sql = f"{ids_sql} LIMIT {PAGE_SIZE + 1:d} OFFSET {start:d}"
    with connection.cursor() as cursor:
        cursor.execute(page_ids_sql, params)
        ids = [pk for (pk,) in cursor.fetchall()]
        if not ids:
            return SearchPage(rows=[], number=page, has_next=False)
        shown = ids[:PAGE_SIZE]
        execute(cursor, _rows_sql(PAGE_SIZE), shown + [0] * (PAGE_SIZE - len(shown)))
        values = cursor.fetchall()
    labels, months = _status_labels(get_language()), date_names().months_short  # as the `date` filter's "M"
    # One reverse() a page, not one a row (it cost as much as the rest of a row): the rows' links differ only by id.
    head, _, tail = reverse("support:payment", kwargs={"payment_id": 0}).rpartition("0")
    rows = []
    for pk, ref, guest, amount_kes, status, phone, receipt, title, created_at in values:
        created_at = _utc(created_at)
        local = created_at.astimezone(NAIROBI)
        rows.append(
            SearchRow(
                pk=pk,
                ref=ref,
                guest=guest,
                amount_kes=amount_kes,
                status=status,
                status_label=labels.get(status, status),
                phone=phone,
                receipt=receipt,
                listing=title,
                created_at=created_at,
                created_iso=local.isoformat(),
                created_label=f"{local.day} {months[local.month]} {local.year} {local.hour:02d}:{local.minute:02d}",
                url=f"{head}{pk}{tail}",
            )
        )
    return SearchPage(rows=rows, number=page, has_next=len(ids) > PAGE_SIZE)


@dataclass(frozen=True)
class TodayFigures:
    started: int
    succeeded: int
    failed: int
    pending: int
    unknown: int
    collected_kes: int
    refunded_kes: int


@functools.lru_cache(maxsize=4)
def _today_sql(day: datetime.date, vendor: str) -> str:
    """The statement of `day`'s figures, its values written into it: with none to send, PostgreSQL plans the
    statement prepared on the connection (core/prepared.py) once a day; with the day's start as a parameter it could
    not know how many payments follow it and planned the statement anew on every console page (0.13-0.18 ms of its
    CPU, bench/support_search.py). Every value is the code's own (statuses, a moment it works out), none a user's."""
    start = connection.ops.adapt_datetimefield_value(_local_midnight(day))
    start = start.isoformat() if isinstance(start, datetime.datetime) else start  # SQLite's is already text
    if not _MOMENT_TEXT.fullmatch(start):
        raise ValueError(f"not a moment: {start!r}")
    S = Payment.Status
    in_flight = ", ".join(f"'{status}'" for status in sorted(status.value for status in Payment.IN_FLIGHT))
    return f"""
        SELECT COUNT(*),
               COUNT(CASE WHEN status = '{S.SUCCEEDED.value}' THEN 1 END),
               COUNT(CASE WHEN status = '{S.FAILED.value}' THEN 1 END),
               COUNT(CASE WHEN status IN ({in_flight}) THEN 1 END),
               COUNT(CASE WHEN status = '{S.UNKNOWN.value}' THEN 1 END),
               COALESCE(SUM(CASE WHEN status = '{S.SUCCEEDED.value}' THEN amount_kes END), 0),
               (SELECT COALESCE(SUM(amount_kes), 0) FROM {Refund._meta.db_table}
                 WHERE status = '{Refund.Status.SUCCEEDED.value}' AND settled_at >= '{start}')
          FROM {Payment._meta.db_table}
         WHERE created_at >= '{start}'
    """  # noqa: S608 (no value in it comes from a request)


def support_today(*, now: datetime.datetime | None = None) -> TodayFigures:
    """Today's payments (Nairobi day) by outcome, money collected and refunded. One query, written out: it is on
    every console page, and the ORM spent longer composing the two aggregates than PostgreSQL took to answer."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        execute(cursor, _today_sql(local_date(now), connection.vendor))
        started, succeeded, failed, pending, unknown, collected, refunded = cursor.fetchone()
    return TodayFigures(
        started=started,
        succeeded=succeeded,
        failed=failed,
        pending=pending,
        unknown=unknown,
        collected_kes=int(collected),
        refunded_kes=int(refunded),
    )
