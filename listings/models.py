import datetime
import functools

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.reverse import reverse
from listings.photos import ImageSet, image_set


class County(models.TextChoices):
    """The 47 counties of Kenya."""

    BARINGO = "baringo", "Baringo"
    BOMET = "bomet", "Bomet"
    BUNGOMA = "bungoma", "Bungoma"
    BUSIA = "busia", "Busia"
    ELGEYO_MARAKWET = "elgeyo-marakwet", "Elgeyo-Marakwet"
    EMBU = "embu", "Embu"
    GARISSA = "garissa", "Garissa"
    HOMA_BAY = "homa-bay", "Homa Bay"
    ISIOLO = "isiolo", "Isiolo"
    KAJIADO = "kajiado", "Kajiado"
    KAKAMEGA = "kakamega", "Kakamega"
    KERICHO = "kericho", "Kericho"
    KIAMBU = "kiambu", "Kiambu"
    KILIFI = "kilifi", "Kilifi"
    KIRINYAGA = "kirinyaga", "Kirinyaga"
    KISII = "kisii", "Kisii"
    KISUMU = "kisumu", "Kisumu"
    KITUI = "kitui", "Kitui"
    KWALE = "kwale", "Kwale"
    LAIKIPIA = "laikipia", "Laikipia"
    LAMU = "lamu", "Lamu"
    MACHAKOS = "machakos", "Machakos"
    MAKUENI = "makueni", "Makueni"
    MANDERA = "mandera", "Mandera"
    MARSABIT = "marsabit", "Marsabit"
    MERU = "meru", "Meru"
    MIGORI = "migori", "Migori"
    MOMBASA = "mombasa", "Mombasa"
    MURANGA = "muranga", "Murang'a"
    NAIROBI = "nairobi", "Nairobi"
    NAKURU = "nakuru", "Nakuru"
    NANDI = "nandi", "Nandi"
    NAROK = "narok", "Narok"
    NYAMIRA = "nyamira", "Nyamira"
    NYANDARUA = "nyandarua", "Nyandarua"
    NYERI = "nyeri", "Nyeri"
    SAMBURU = "samburu", "Samburu"
    SIAYA = "siaya", "Siaya"
    TAITA_TAVETA = "taita-taveta", "Taita-Taveta"
    TANA_RIVER = "tana-river", "Tana River"
    THARAKA_NITHI = "tharaka-nithi", "Tharaka-Nithi"
    TRANS_NZOIA = "trans-nzoia", "Trans Nzoia"
    TURKANA = "turkana", "Turkana"
    UASIN_GISHU = "uasin-gishu", "Uasin Gishu"
    VIHIGA = "vihiga", "Vihiga"
    WAJIR = "wajir", "Wajir"
    WEST_POKOT = "west-pokot", "West Pokot"


COUNTY_NAMES = dict(County.choices)


@functools.cache
def choice_labels(choices: type[models.TextChoices], language: str | None) -> dict[str, str]:
    """Each value's label in `language`, the active language when called (the argument keys the cache)."""
    return {value: str(label) for value, label in choices.choices}


class PropertyType(models.TextChoices):
    APARTMENT = "apartment", _("Apartment")
    HOUSE = "house", _("House")
    COTTAGE = "cottage", _("Cottage")
    VILLA = "villa", _("Villa")
    BUNGALOW = "bungalow", _("Bungalow")
    STUDIO = "studio", _("Studio")
    ROOM = "room", _("Private room")
    TENT = "tent", _("Safari tent")


class CancellationPolicy(models.TextChoices):
    FLEXIBLE = "flexible", _("Flexible")
    MODERATE = "moderate", _("Moderate")
    STRICT = "strict", _("Strict")


class Amenity(models.Model):
    """One entry of the fixed amenity catalogue. Rows are created by migrations, one per code."""

    class Code(models.TextChoices):
        WIFI = "wifi", _("Wi-Fi")
        PARKING = "parking", _("Free parking")
        POOL = "pool", _("Pool")
        KITCHEN = "kitchen", _("Kitchen")
        AIR_CONDITIONING = "air_conditioning", _("Air conditioning")
        HOT_WATER = "hot_water", _("Hot water")
        BACKUP_POWER = "backup_power", _("Backup power")
        SEA_VIEW = "sea_view", _("Sea view")
        BEACH_ACCESS = "beach_access", _("Beach access")
        WASHING_MACHINE = "washing_machine", _("Washing machine")
        TV = "tv", _("TV")
        WORKSPACE = "workspace", _("Workspace")
        GARDEN = "garden", _("Garden")
        BBQ = "bbq", _("Barbecue grill")
        SECURITY = "security", _("24-hour security")
        MOSQUITO_NETS = "mosquito_nets", _("Mosquito nets")
        FIREPLACE = "fireplace", _("Fireplace")
        GYM = "gym", _("Gym")

    code = models.CharField(max_length=30, unique=True, choices=Code)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = _("amenities")

    def __str__(self) -> str:
        return self.get_code_display()


# Below this many reviews a listing shows "New" instead of an average.
RATED_FROM_REVIEWS = 3


class Listing(TimeStampedModel):
    """A property a host offers. Public fields show on the property page; private ones only to confirmed guests."""

    MAX_ADVANCE_NOTICE_DAYS = 7

    host = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="listings")
    title = models.CharField(_("title"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=140, unique=True)
    description = models.TextField(_("description"), blank=True)
    property_type = models.CharField(
        _("property type"), max_length=20, choices=PropertyType, default=PropertyType.APARTMENT
    )
    county = models.CharField(_("county"), max_length=20, choices=County)
    town = models.CharField(_("town or area"), max_length=80)

    max_guests = models.PositiveSmallIntegerField(
        _("maximum guests"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    bedrooms = models.PositiveSmallIntegerField(_("bedrooms"), default=1, validators=[MaxValueValidator(50)])
    beds = models.PositiveSmallIntegerField(_("beds"), default=1, validators=[MaxValueValidator(100)])
    bathrooms = models.PositiveSmallIntegerField(_("bathrooms"), default=1, validators=[MaxValueValidator(50)])

    nightly_price_kes = models.PositiveIntegerField(
        _("nightly price (KES)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    cleaning_fee_kes = models.PositiveIntegerField(_("cleaning fee (KES)"), default=0)
    weekly_discount_percent = models.PositiveSmallIntegerField(
        _("weekly discount (%)"),
        default=0,
        validators=[MaxValueValidator(90)],
        help_text=_("Off the nights' total for stays of 7 nights or more."),
    )
    monthly_discount_percent = models.PositiveSmallIntegerField(
        _("monthly discount (%)"),
        default=0,
        validators=[MaxValueValidator(90)],
        help_text=_("Off the nights' total for stays of 28 nights or more."),
    )

    min_nights = models.PositiveSmallIntegerField(
        _("minimum nights"), default=1, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    max_nights = models.PositiveSmallIntegerField(
        _("maximum nights"), default=90, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    advance_notice_days = models.PositiveSmallIntegerField(
        _("advance notice (days)"),
        default=0,
        validators=[MaxValueValidator(MAX_ADVANCE_NOTICE_DAYS)],
        help_text=_("0 allows same-day bookings until the cut-off hour."),
    )
    same_day_cutoff_hour = models.PositiveSmallIntegerField(
        _("same-day cut-off hour"),
        default=18,
        validators=[MaxValueValidator(23)],
        help_text=_("With no advance notice, guests can book for tonight until this hour (East Africa Time)."),
    )
    check_in_time = models.TimeField(_("check-in from"), default=datetime.time(14, 0))
    check_out_time = models.TimeField(_("check-out by"), default=datetime.time(10, 0))
    house_rules = models.TextField(_("house rules"), blank=True)
    cancellation_policy = models.CharField(
        _("cancellation policy"), max_length=10, choices=CancellationPolicy, default=CancellationPolicy.MODERATE
    )
    amenities = models.ManyToManyField(Amenity, blank=True, related_name="listings", verbose_name=_("amenities"))
    is_published = models.BooleanField(_("published"), default=False)
    # Published, visible guest reviews: their number and the sum of their overall ratings, kept by the reviews
    # service under this row's lock, so that cards and search read the rating without another query.
    review_count = models.PositiveIntegerField(default=0, editable=False)
    rating_sum = models.PositiveIntegerField(default=0, editable=False)

    # Private: shown only to guests with a confirmed booking.
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    directions = models.TextField(_("directions and landmarks"), blank=True)
    check_in_instructions = models.TextField(_("check-in instructions"), blank=True)
    host_phone = models.CharField(
        _("host's phone"), max_length=12, blank=True, help_text=_("Stored as 2547XXXXXXXX or 2541XXXXXXXX.")
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(max_nights__gte=F("min_nights")), name="listing_max_nights_gte_min"),
            models.CheckConstraint(condition=Q(min_nights__gte=1), name="listing_min_nights_gte_1"),
            models.CheckConstraint(condition=Q(advance_notice_days__lte=7), name="listing_advance_notice_lte_7"),
            models.CheckConstraint(condition=Q(same_day_cutoff_hour__lte=23), name="listing_cutoff_hour_lte_23"),
            models.CheckConstraint(condition=Q(weekly_discount_percent__lte=90), name="listing_weekly_discount_lte_90"),
            models.CheckConstraint(
                condition=Q(monthly_discount_percent__lte=90), name="listing_monthly_discount_lte_90"
            ),
        ]
        indexes = [
            models.Index(fields=["county", "is_published", "nightly_price_kes"], name="listing_county_pub_price"),
            models.Index(fields=["is_published", "nightly_price_kes"], name="listing_pub_price"),
            models.Index(fields=["is_published", "-created_at"], name="listing_pub_newest"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("listings:listing-detail", kwargs={"slug": self.slug})

    @property
    def property_type_label(self) -> str:
        """The type's label, translated once per language (get_property_type_display hashes every choice on each
        call, and a lazy label is translated again each time it is printed: twelve times a search page)."""
        return choice_labels(PropertyType, get_language()).get(self.property_type, self.property_type)

    @property
    def cancellation_policy_label(self) -> str:
        """The policy's label, as property_type_label (the choices dict was 2% of the property page's time)."""
        return choice_labels(CancellationPolicy, get_language()).get(self.cancellation_policy, self.cancellation_policy)

    @property
    def area(self) -> str:
        """Where the public may know the place is: town or area and county."""
        return f"{self.town}, {COUNTY_NAMES.get(self.county, self.county)}"

    @property
    def rating_average(self) -> float | None:
        """The average overall rating to one decimal, once the listing has RATED_FROM_REVIEWS reviews."""
        if self.review_count < RATED_FROM_REVIEWS:
            return None
        # Rounded half up in integers: 4.75 shows as 4.8.
        return (self.rating_sum * 20 // self.review_count + 1) // 2 / 10

    @property
    def rating_label(self) -> str:
        """ "★ 4.8 (12)" on cards, or "New" below RATED_FROM_REVIEWS reviews."""
        average = self.rating_average
        return "New" if average is None else f"★ {average:.1f} ({self.review_count})"

    @property
    def host_first_name(self) -> str:
        """How the public page names the host: the first name only, never the e-mail address."""
        names = self.host.full_name.split()
        return names[0] if names else ""


class ListingPhoto(TimeStampedModel):
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("image"), upload_to="listings/%Y/%m/")
    # The same picture at card size, so that search results do not send phones the large image.
    thumbnail = models.ImageField(_("thumbnail"), upload_to="listings/%Y/%m/", blank=True)
    # And near 720 px, what a phone 360 CSS px wide shows at device pixel ratio 2 (`manage.py fill_photo_sizes`
    # makes it for photos stored before it existed).
    medium = models.ImageField(_("medium size"), upload_to="listings/%Y/%m/", blank=True)
    # The display image's size in pixels (None for photos stored before it was recorded).
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    caption = models.CharField(_("caption"), max_length=140, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        indexes = [models.Index(fields=["listing", "order", "id"], name="photo_listing_order")]

    def __str__(self) -> str:
        return self.caption or f"Photo {self.order + 1} of {self.listing}"

    @property
    def files(self) -> list[str]:
        """Every stored file of this photo."""
        return [name for name in (self.image.name, self.medium.name, self.thumbnail.name) if name]

    @property
    def image_set(self) -> ImageSet:
        return image_set(
            url=self.image.storage.url,
            image=self.image.name,
            medium=self.medium.name,
            thumbnail=self.thumbnail.name,
            width=self.width,
            height=self.height,
        )


class CalendarDay(models.Model):
    """What the host set for one night (the night that starts on `date`). No row: the listing's defaults."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="calendar_days")
    date = models.DateField(_("date"))
    blocked = models.BooleanField(_("blocked"), default=False)
    note = models.CharField(_("note"), max_length=140, blank=True)
    price_override_kes = models.PositiveIntegerField(
        _("price for this night (KES)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    min_nights_override = models.PositiveSmallIntegerField(
        _("minimum nights from this night"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )

    class Meta:
        ordering = ["listing", "date"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "date"], name="calendar_day_unique_listing_date"),
        ]
        indexes = [
            models.Index(fields=["listing", "date"], condition=Q(blocked=True), name="calendar_day_blocked"),
            # Search reads the blocked nights and the minimum-stay overrides of a few dates across all listings.
            models.Index(fields=["date", "listing"], condition=Q(blocked=True), name="calendar_day_blocked_date"),
            models.Index(
                fields=["date", "listing", "min_nights_override"],
                condition=Q(min_nights_override__isnull=False),
                name="calendar_day_min_nights_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listing} on {self.date:%Y-%m-%d}"
