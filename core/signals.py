"""Signals core sends for the apps above it (core imports none of them)."""

from django.dispatch import Signal

# A user has just proved they hold a mobile number (core.services.user_phone_verify). Arguments: user, phone (E.164),
# others_verified_before (when anyone else last verified this number, or None): reservations links guest rows typed
# with the number, only on bookings made after that moment (numbers are recycled).
phone_verified = Signal()
