"""Nairobi's time zone: the product's (settings.TIME_ZONE names it) and M-Pesa's (every Daraja timestamp is in it).

Today in Nairobi is timezone.localdate(now) and the local hour is timezone.localtime(now).hour: nothing activates
another time zone, so those read Nairobi's clock. This constant is for what must be Nairobi whatever the settings
say: a moment built from a local date and time (a stay's check-in) and the timestamps Daraja reads.
"""

from zoneinfo import ZoneInfo

NAIROBI = ZoneInfo("Africa/Nairobi")
