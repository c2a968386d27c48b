from django.contrib import admin

from reservations.models import Booking, BookingEvent, BookingGuest


class ReadOnlyAdmin(admin.ModelAdmin):
    """Bookings change only through reservations.services, which writes the audit trail."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class BookingGuestInline(admin.TabularInline):
    model = BookingGuest
    extra = 0
    can_delete = False
    readonly_fields = ["position", "full_name", "email", "phone", "age_group", "user"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class BookingEventInline(admin.TabularInline):
    model = BookingEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "actor_kind", "actor", "from_status", "to_status", "action", "message", "details"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


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
