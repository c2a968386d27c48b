from django.core.management.base import BaseCommand

from listings.models import ListingPhoto
from listings.services import listing_photo_fill_sizes


class Command(BaseCommand):
    help = (
        "Make the medium size (near 720 px, for phones) of listing photos stored before it existed, and record "
        "their width and height. Safe to run again: photos that have both are skipped."
    )

    def handle(self, *args, **options):
        missing = ListingPhoto.objects.filter(medium="") | ListingPhoto.objects.filter(width__isnull=True)
        filled = failed = 0
        for photo in missing.order_by("id").iterator(chunk_size=100):
            try:
                filled += listing_photo_fill_sizes(photo=photo)
            except (OSError, ValueError) as error:  # a file missing from the storage, or unreadable
                failed += 1
                self.stderr.write(f"Photo {photo.pk} ({photo.image.name}): {error}")
        self.stdout.write(f"Filled {filled} photo(s); {failed} could not be read.")
