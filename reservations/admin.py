from django.contrib import admin

from core.admin_readonly import ReadOnlyAdmin, ReadOnlyTabularInline
from reservations.models import Booking, BookingEvent, BookingGuest


class BookingGuestInline(ReadOnlyTabularInline):
    model = BookingGuest
    readonly_fields = ["position", "full_name", "email", "phone", "age_group", "user"]


class BookingEventInline(ReadOnlyTabularInline):
    model = BookingEvent
    readonly_fields = ["created_at", "actor_kind", "actor", "from_status", "to_status", "action", "message", "details"]


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ["ref", "listing", "booker", "check_in", "check_out", "status", "total_kes", "paid_kes"]
    list_filter = ["status"]
    search_fields = ["ref", "booker__email", "listing__title", "guests__full_name", "guests__email"]
    inlines = [BookingGuestInline, BookingEventInline]


@admin.register(BookingEvent)
class BookingEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "booking", "actor_kind", "action", "from_status", "to_status"]
    list_filter = ["actor_kind", "action"]
    search_fields = ["booking__ref"]
