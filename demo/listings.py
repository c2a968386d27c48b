"""Demo listings for `seed_demo`: places across Kenya with photos, prices and a calendar, made through the services.

A listing whose slug already exists is left as it is, so running the seed again creates nothing new and keeps
whatever a demo host changed.
"""

import datetime
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify

from core.clock import local_date
from core.models import User
from demo.pictures import demo_picture
from listings.models import Amenity, Listing
from listings.services import (
    calendar_block,
    calendar_set_min_nights,
    calendar_set_price,
    listing_create,
    listing_photo_add,
    listing_publish,
)

DEMO_HOST = "host@nexus.test"
# Other hosts, so that the demo host sees only their own places: (e-mail, full name, M-Pesa phone).
OTHER_HOSTS = [
    ("wanjiru@nexus.test", "Wanjiru Kamau", "254722000111"),
    ("omar@nexus.test", "Omar Said", "254733000222"),
    ("achieng@nexus.test", "Achieng Odhiambo", "254711000333"),
]

CAPTIONS = ["Outside", "Living room", "Bedroom", "Kitchen", "Around the place"]


@dataclass(frozen=True)
class DemoListing:
    host: str
    title: str
    property_type: str
    county: str
    town: str
    setting: str  # which outdoor scene its cover shows: beach, lake, savanna, city, garden
    max_guests: int
    bedrooms: int
    nightly_price_kes: int
    amenities: tuple[str, ...]
    blurb: str
    cleaning_fee_kes: int = 0
    weekly_discount_percent: int = 0
    monthly_discount_percent: int = 0
    min_nights: int = 1
    cancellation_policy: str = "moderate"
    published: bool = True
    extra: dict = field(default_factory=dict)


COAST = ("wifi", "air_conditioning", "hot_water", "mosquito_nets", "security")
CITY = ("wifi", "parking", "hot_water", "backup_power", "security", "tv")
UPCOUNTRY = ("wifi", "parking", "hot_water", "fireplace", "garden", "kitchen")

DEMO_LISTINGS = [
    # Nairobi
    DemoListing(
        DEMO_HOST,
        "Westlands skyline apartment",
        "apartment",
        "nairobi",
        "Westlands",
        "city",
        4,
        2,
        7_500,
        CITY + ("workspace", "gym", "kitchen"),
        "A two-bedroom flat on the 14th floor, ten minutes from Sarit.",
        cleaning_fee_kes=1_000,
        weekly_discount_percent=10,
        monthly_discount_percent=25,
    ),
    DemoListing(
        DEMO_HOST,
        "Kilimani garden studio",
        "studio",
        "nairobi",
        "Kilimani",
        "garden",
        2,
        1,
        4_000,
        CITY + ("workspace",),
        "A quiet studio behind the main house, with its own entrance.",
        published=False,
    ),
    DemoListing(
        "wanjiru@nexus.test",
        "Karen forest cottage",
        "cottage",
        "nairobi",
        "Karen",
        "garden",
        4,
        2,
        12_000,
        UPCOUNTRY + ("security",),
        "A stone cottage on an acre of indigenous forest near the Giraffe Centre.",
        cleaning_fee_kes=2_000,
        weekly_discount_percent=10,
        cancellation_policy="strict",
    ),
    DemoListing(
        "wanjiru@nexus.test",
        "Lavington family house",
        "house",
        "nairobi",
        "Lavington",
        "garden",
        8,
        4,
        18_500,
        CITY + ("garden", "kitchen", "washing_machine"),
        "Four bedrooms, a big lawn and a swing set.",
        cleaning_fee_kes=3_000,
        min_nights=2,
    ),
    DemoListing(
        "wanjiru@nexus.test",
        "Room near JKIA for early flights",
        "room",
        "nairobi",
        "Embakasi",
        "city",
        2,
        1,
        2_500,
        ("wifi", "hot_water", "parking", "security"),
        "A clean room 15 minutes from the airport.",
        cancellation_policy="flexible",
    ),
    # Mombasa
    DemoListing(
        "omar@nexus.test",
        "Nyali beachfront apartment",
        "apartment",
        "mombasa",
        "Nyali",
        "beach",
        5,
        2,
        9_500,
        COAST + ("pool", "sea_view", "beach_access", "kitchen"),
        "Sea views from every room.",
        cleaning_fee_kes=1_500,
        weekly_discount_percent=8,
    ),
    DemoListing(
        "omar@nexus.test",
        "Old Town Swahili house",
        "house",
        "mombasa",
        "Old Town",
        "city",
        6,
        3,
        11_000,
        COAST + ("kitchen",),
        "A restored coral-stone house two streets from Fort Jesus.",
    ),
    DemoListing(
        DEMO_HOST,
        "Bamburi pool villa",
        "villa",
        "mombasa",
        "Bamburi",
        "beach",
        10,
        5,
        28_000,
        COAST + ("pool", "bbq", "backup_power", "kitchen", "parking"),
        "Five en-suite rooms around a pool.",
        cleaning_fee_kes=5_000,
        weekly_discount_percent=12,
        monthly_discount_percent=30,
        min_nights=2,
    ),
    # Diani (Kwale)
    DemoListing(
        DEMO_HOST,
        "Diani beach cottage under the palms",
        "cottage",
        "kwale",
        "Diani",
        "beach",
        4,
        2,
        8_500,
        COAST + ("beach_access", "kitchen", "parking"),
        "Two minutes' walk to the white sand of Diani.",
        cleaning_fee_kes=1_500,
        weekly_discount_percent=10,
        monthly_discount_percent=20,
    ),
    DemoListing(
        "omar@nexus.test",
        "Galu beach villa with pool",
        "villa",
        "kwale",
        "Galu Beach, Diani",
        "beach",
        8,
        4,
        35_000,
        COAST + ("pool", "sea_view", "beach_access", "backup_power", "kitchen"),
        "Right on Galu beach.",
        cleaning_fee_kes=6_000,
        weekly_discount_percent=15,
        min_nights=3,
        cancellation_policy="strict",
    ),
    DemoListing(
        "omar@nexus.test",
        "Tiwi cliff-top bungalow",
        "bungalow",
        "kwale",
        "Tiwi",
        "beach",
        4,
        2,
        9_000,
        COAST + ("sea_view", "kitchen"),
        "A bungalow on the cliff above the Tiwi rock pools.",
    ),
    DemoListing(
        DEMO_HOST,
        "Diani budget room near the beach road",
        "room",
        "kwale",
        "Diani",
        "garden",
        2,
        1,
        3_000,
        ("wifi", "hot_water", "mosquito_nets"),
        "A simple room with a fan, 300 m from the beach road.",
        cancellation_policy="flexible",
    ),
    # Naivasha (Nakuru)
    DemoListing(
        DEMO_HOST,
        "Lake Naivasha cottage with hippos at dusk",
        "cottage",
        "nakuru",
        "Naivasha",
        "lake",
        4,
        2,
        10_500,
        UPCOUNTRY,
        "On the south lake road; hippos graze the lawn after dark.",
        cleaning_fee_kes=1_500,
        weekly_discount_percent=10,
    ),
    DemoListing(
        "wanjiru@nexus.test",
        "Crescent Island view house",
        "house",
        "nakuru",
        "Naivasha",
        "lake",
        8,
        4,
        22_000,
        UPCOUNTRY + ("bbq", "backup_power"),
        "A big family house looking over to Crescent Island.",
        cleaning_fee_kes=3_500,
        min_nights=2,
    ),
    DemoListing(
        "wanjiru@nexus.test",
        "Hell's Gate safari tent",
        "tent",
        "nakuru",
        "Naivasha",
        "savanna",
        2,
        1,
        6_500,
        ("hot_water", "parking", "mosquito_nets"),
        "A canvas tent on a deck, five minutes from Elsa Gate.",
        cancellation_policy="flexible",
    ),
    # Nanyuki (Laikipia)
    DemoListing(
        DEMO_HOST,
        "Mount Kenya view farmhouse",
        "house",
        "laikipia",
        "Nanyuki",
        "savanna",
        6,
        3,
        14_000,
        UPCOUNTRY + ("backup_power",),
        "Wake up to the peaks of Mount Kenya over the wheat fields.",
        cleaning_fee_kes=2_500,
        weekly_discount_percent=10,
        monthly_discount_percent=25,
    ),
    DemoListing(
        "wanjiru@nexus.test",
        "Nanyuki equator cottage",
        "cottage",
        "laikipia",
        "Nanyuki",
        "savanna",
        3,
        1,
        5_500,
        UPCOUNTRY,
        "A snug cottage a short drive from the equator sign.",
    ),
    DemoListing(
        "wanjiru@nexus.test",
        "Laikipia ranch villa",
        "villa",
        "laikipia",
        "Nanyuki",
        "savanna",
        12,
        6,
        45_000,
        UPCOUNTRY + ("pool", "backup_power", "bbq"),
        "Six cottages on a working ranch; game drives arranged.",
        cleaning_fee_kes=8_000,
        weekly_discount_percent=15,
        min_nights=3,
        cancellation_policy="strict",
    ),
    # Kisumu
    DemoListing(
        DEMO_HOST,
        "Milimani lakeside apartment",
        "apartment",
        "kisumu",
        "Milimani",
        "lake",
        4,
        2,
        6_000,
        CITY + ("kitchen",),
        "A bright flat in Milimani with a glimpse of Lake Victoria.",
        weekly_discount_percent=10,
        monthly_discount_percent=20,
    ),
    DemoListing(
        "achieng@nexus.test",
        "Dunga Hill house by Lake Victoria",
        "house",
        "kisumu",
        "Dunga",
        "lake",
        6,
        3,
        9_500,
        CITY + ("garden", "kitchen"),
        "Watch the fishing boats come in at Dunga beach.",
        cleaning_fee_kes=1_500,
    ),
    # Lamu
    DemoListing(
        "omar@nexus.test",
        "Shela Swahili villa",
        "villa",
        "lamu",
        "Shela",
        "beach",
        10,
        5,
        38_000,
        COAST + ("sea_view", "beach_access", "kitchen"),
        "Carved doors, a rooftop and 12 km of empty beach.",
        cleaning_fee_kes=5_000,
        weekly_discount_percent=12,
        min_nights=3,
        cancellation_policy="strict",
    ),
    DemoListing(
        "achieng@nexus.test",
        "Lamu Old Town rooftop house",
        "house",
        "lamu",
        "Lamu Town",
        "city",
        6,
        3,
        15_000,
        COAST + ("kitchen",),
        "Donkeys in the lane below, dhows from the roof.",
    ),
    # Kilifi
    DemoListing(
        DEMO_HOST,
        "Kilifi creek cottage",
        "cottage",
        "kilifi",
        "Kilifi",
        "beach",
        4,
        2,
        8_000,
        COAST + ("kitchen", "parking"),
        "On the creek, with a canoe to paddle to the baobabs.",
        cleaning_fee_kes=1_000,
        weekly_discount_percent=10,
    ),
    DemoListing(
        "achieng@nexus.test",
        "Watamu ocean villa",
        "villa",
        "kilifi",
        "Watamu",
        "beach",
        8,
        4,
        26_000,
        COAST + ("pool", "sea_view", "beach_access", "backup_power"),
        "Steps from the Watamu marine park.",
        cleaning_fee_kes=4_000,
        weekly_discount_percent=10,
        monthly_discount_percent=25,
        min_nights=2,
    ),
]


def _description(demo: DemoListing) -> str:
    return (
        f"{demo.blurb}\n\nSleeps {demo.max_guests} in {demo.bedrooms} bedroom{'s' if demo.bedrooms > 1 else ''}. "
        f"Hosted by a local who answers on WhatsApp and can arrange airport or SGR pick-ups in {demo.town}."
    )


def _fields(demo: DemoListing) -> dict:
    return {
        "title": demo.title,
        "description": _description(demo),
        "property_type": demo.property_type,
        "county": demo.county,
        "town": demo.town,
        "max_guests": demo.max_guests,
        "bedrooms": demo.bedrooms,
        "beds": demo.bedrooms + (1 if demo.max_guests > demo.bedrooms * 2 else 0),
        "bathrooms": max(1, demo.bedrooms - 1),
        "nightly_price_kes": demo.nightly_price_kes,
        "cleaning_fee_kes": demo.cleaning_fee_kes,
        "weekly_discount_percent": demo.weekly_discount_percent,
        "monthly_discount_percent": demo.monthly_discount_percent,
        "min_nights": demo.min_nights,
        "max_nights": 90,
        "advance_notice_days": 0,
        "same_day_cutoff_hour": 18,
        "check_in_time": datetime.time(14, 0),
        "check_out_time": datetime.time(10, 0),
        "house_rules": "No smoking indoors. Quiet after 10 pm. No parties.",
        "cancellation_policy": demo.cancellation_policy,
        "street_address": f"{demo.town}, off the main road",
        "directions": "Ask for the gate with the blue sign; the askari will let you in.",
        "check_in_instructions": "Call the host when you reach the gate.",
        "host_phone": "254712345678",
    }


def _calendar(listing: Listing, index: int, today: datetime.date) -> None:
    """Some blocked nights, weekend prices and a longer minimum stay, different for each listing."""
    span = {"listing": listing}
    if index % 3 == 0:
        first = today + datetime.timedelta(days=5 + index % 7)
        calendar_block(**span, first_night=first, last_night=first + datetime.timedelta(days=2), note="Owner's stay")
    if index % 4 == 1:
        first = today + datetime.timedelta(days=20 + index)
        calendar_block(**span, first_night=first, last_night=first, note="Repairs")
    if index % 2 == 0:
        friday = today + datetime.timedelta(days=(4 - today.weekday()) % 7)
        for week in range(4):
            night = friday + datetime.timedelta(weeks=week)
            weekend_price = listing.nightly_price_kes * 6 // 5 // 100 * 100
            calendar_set_price(
                **span, first_night=night, last_night=night + datetime.timedelta(days=1), price_kes=weekend_price
            )
    if index % 5 == 2:
        first = today + datetime.timedelta(days=30)
        calendar_set_min_nights(**span, first_night=first, last_night=first + datetime.timedelta(days=6), min_nights=3)


def seed_listings(*, hosts: dict[str, User]) -> int:
    """Create the demo listings that do not exist yet; returns how many were created."""
    amenities = {amenity.code: amenity for amenity in Amenity.objects.all()}
    today = local_date()
    created = 0
    for index, demo in enumerate(DEMO_LISTINGS):
        if Listing.objects.filter(slug=slugify(demo.title)).exists():
            continue
        with transaction.atomic():
            listing = listing_create(
                host=hosts[demo.host],
                fields=_fields(demo),
                amenities=[amenities[code] for code in dict.fromkeys(demo.amenities)],
            )
            for number in range(3 + index % 3):
                picture = demo_picture(seed=listing.slug, number=number, setting=demo.setting)
                upload = ContentFile(picture, name=f"{listing.slug}-{number}.jpg")
                listing_photo_add(listing=listing, upload=upload, caption=CAPTIONS[number])
            _calendar(listing, index, today)
            if demo.published:
                listing_publish(listing=listing)
        created += 1
    return created
