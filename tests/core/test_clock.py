from django.conf import settings
from django.utils import timezone

from core.clock import NAIROBI


def test_the_product_lives_on_nairobis_clock():
    """timezone.localdate() is today in Nairobi only while the settings name the same zone as the constant."""
    assert settings.TIME_ZONE == NAIROBI.key
    assert timezone.get_current_timezone() == NAIROBI
