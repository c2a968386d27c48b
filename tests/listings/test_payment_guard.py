"""The off-platform payment guard: one function, a table of what it refuses and what it lets through."""

import pytest

from listings.payment_guard import off_platform_findings, off_platform_message

REFUSED = [
    # Kenyan mobile numbers, however they are written.
    ("Call 0712345678 for bookings", "phone", "0712345678"),
    ("WhatsApp 0712 345 678", "phone", "0712 345 678"),
    ("Call 0712.345.678 anytime", "phone", "0712.345.678"),
    ("Call 0712-345-678", "phone", "0712-345-678"),
    ("Phone (0712) 345-678", "phone", "(0712) 345-678"),
    ("reach me on +254 712 345 678", "phone", "+254 712 345 678"),
    ("reach me on +254712345678", "phone", "+254712345678"),
    ("254 7 12 34 56 78 is my line", "phone", "254 7 12 34 56 78"),
    ("landline 0110 123 456", "phone", "0110 123 456"),
    (
        "call zero seven one two three four five six seven eight",
        "phone",
        "zero seven one two three four five six seven eight",
    ),
    ("Call Zero 7 one two 345 six seven eight", "phone", "Zero 7 one two 345 six seven eight"),
    (
        "piga sifuri saba moja mbili tatu nne tano sita saba nane",
        "phone",
        "sifuri saba moja mbili tatu nne tano sita saba nane",
    ),
    # Paybill, till and payment instructions with a number.
    ("Paybill 123456", "payment", "Paybill 123456"),
    ("Pay bill 123456 account HOUSE5", "payment", "Pay bill 123456"),
    ("Till number 5123456 for the deposit", "payment", "Till number 5123456"),
    ("Buy goods 512345", "payment", "Buy goods 512345"),
    ("Lipa na M-Pesa 400200 to confirm", "payment", "Lipa na M-Pesa 400200"),
    ("Lipa na Mpesa till 987654", "payment", "Lipa na Mpesa till 987654"),
    ("Send to 522 522 then text me", "payment", "Send to 522 522"),
    ("Please send the deposit to 55 66 77", "payment", "send the deposit to 55 66 77"),
    ("Business number 247247, account 12345", "payment", "Business number 247247"),
]

BENIGN = [
    "Plot 12345",
    "Plot 12345, 2 bedrooms",
    "2 bedrooms",
    "KES 12,000 a night",
    "KES 12,000 a night, KES 80,000 a week",
    "built in 2019",
    "Built in 2019, renovated 2023",
    "We take M-Pesa through Nexus only.",
    "Quiet hours from 10 pm till 7 am.",
    "Check-out till 10:00, 4 guests at most.",
    "Sleeps 6 on 3 beds, 1 km to the beach.",
    "One bedroom, two bathrooms and three balconies.",
    "Flat 4B, 3rd floor, 2 lifts",
    "",
]


@pytest.mark.parametrize(("text", "kind", "quoted"), REFUSED)
def test_refuses_phone_numbers_and_payment_instructions(text, kind, quoted):
    findings = off_platform_findings(text)
    assert [(f.kind, f.text) for f in findings][:1] == [(kind, quoted)], findings


@pytest.mark.parametrize("text", BENIGN)
def test_lets_ordinary_numbers_through(text):
    assert off_platform_findings(text) == []


def test_message_says_why_and_what_to_remove():
    message = off_platform_message(off_platform_findings("Paybill 123456 or call 0712 345 678"))
    assert "Guests pay only through Nexus" in message
    assert "“Paybill 123456”" in message
    assert "“0712 345 678”" in message
