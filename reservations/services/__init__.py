"""Every change to a booking. Only this package assigns Booking.status, through _move() (transitions.py).

One module per part of a booking's life; this package re-exports their services, so `reservations.services` stays
the import path:
- transitions.py   the one status change (_move), the audit trail, BookingError
- locks.py         the booker's advisory lock, then listing and booking (booking_lock)
- holds.py         holding a stay's nights (booking_hold) and its limits
- lapses.py        holds that run out (bookings_lapse, bookings_expire_all)
- cancellations.py the booker's and the host's cancellations
- payments.py      payments started, ended, counted and refunded; confirmation (booking_confirm)
- nights.py        the nights bookings keep with no deadline (BookedNight), in step with every change above
"""

from reservations.services.cancellations import booking_cancel, booking_host_cancel
from reservations.services.holds import (
    GuestData,
    HoldResult,
    booking_guests_link_account,
    booking_guests_link_phone,
    booking_hold,
    booking_hold_submission,
    hold_duration,
)
from reservations.services.lapses import REFUND_DUE_ON_LAPSE, bookings_expire_all, bookings_lapse
from reservations.services.locks import BOOKER_LOCK_SPACE, booker_lock, booking_lock
from reservations.services.nights import booked_nights_fill
from reservations.services.payments import (
    booking_confirm,
    booking_hold_for_support,
    booking_payment_ended,
    booking_payment_started,
    booking_record_payment,
    booking_record_refund,
    booking_record_refund_due,
)
from reservations.services.transitions import EXCLUSION_VIOLATION, BookingError, _move

__all__ = [
    "BOOKER_LOCK_SPACE",
    "EXCLUSION_VIOLATION",
    "REFUND_DUE_ON_LAPSE",
    "BookingError",
    "GuestData",
    "HoldResult",
    "_move",
    "booked_nights_fill",
    "booker_lock",
    "booking_cancel",
    "booking_confirm",
    "booking_guests_link_account",
    "booking_guests_link_phone",
    "booking_hold",
    "booking_hold_submission",
    "booking_hold_for_support",
    "booking_host_cancel",
    "booking_lock",
    "booking_payment_ended",
    "booking_payment_started",
    "booking_record_payment",
    "booking_record_refund",
    "booking_record_refund_due",
    "bookings_expire_all",
    "bookings_lapse",
    "hold_duration",
]
