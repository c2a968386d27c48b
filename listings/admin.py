from django.contrib import admin

from core.admin_readonly import ReadOnlyAdmin
from listings.models import Amenity, CalendarDay, Listing, ListingPhoto


class ListingPhotoInline(admin.TabularInline):
    """Photos arrive only through the host's upload, which checks them and strips their EXIF."""

    model = ListingPhoto
    extra = 0
    fields = ["image", "caption", "order"]
    readonly_fields = ["image"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ["title", "host", "county", "town", "nightly_price_kes", "max_guests", "is_published"]
    list_filter = ["is_published", "county", "property_type", "cancellation_policy"]
    search_fields = ["title", "town", "slug", "host__email"]
    list_select_related = ["host"]
    raw_id_fields = ["host"]
    filter_horizontal = ["amenities"]
    inlines = [ListingPhotoInline]


@admin.register(CalendarDay)
class CalendarDayAdmin(ReadOnlyAdmin):
    """Read-only: the host's calendar editor changes nights under the listing lock, never past a booking."""

    list_display = ["listing", "date", "blocked", "price_override_kes", "min_nights_override", "note"]
    list_filter = ["blocked"]
    date_hierarchy = "date"
    raw_id_fields = ["listing"]
    list_select_related = ["listing"]


@admin.register(Amenity)
class AmenityAdmin(admin.ModelAdmin):
    list_display = ["code", "position"]

    # The catalogue is fixed: entries come from migrations, so code can rely on every code existing.
    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
