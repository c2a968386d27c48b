import pytest
from django.core.exceptions import ValidationError

from core.phone import format_phone, is_probably_safaricom, kenyan_part, mask_phone, normalise_mobile, normalise_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0712 345 678", "254712345678"),
        ("0712345678", "254712345678"),
        ("0110 123 456", "254110123456"),
        ("0110-123-456", "254110123456"),
        ("+254 712 345 678", "254712345678"),
        ("+254712345678", "254712345678"),
        ("+254 110 123 456", "254110123456"),
        ("254712345678", "254712345678"),
        ("254110123456", "254110123456"),
        ("712345678", "254712345678"),
        ("110123456", "254110123456"),
        ("+254 0712 345 678", "254712345678"),
        ("2540712345678", "254712345678"),
        ("(0712) 345.678", "254712345678"),
        ("  0712345678  ", "254712345678"),
        # Airtel and Telkom numbers are accepted: numbers are portable, M-Pesa decides.
        ("0733 123 456", "254733123456"),
        ("0770 123 456", "254770123456"),
    ],
)
def test_accepted_forms_are_normalised(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "0712",  # too short
        "071234567",  # 9 digits with a trunk 0
        "07123456789",  # too long
        "2547123456789",  # 13 digits, not the trunk-0 form
        "+2547123456",  # too short after the country code
        "07123abc78",  # letters
        "zero seven one two",
        "+1 202 555 0143",  # another country
        "+255 712 345 678",  # Tanzania
        "256712345678",  # Uganda
        "+44 7911 123456",
        "020 123 4567",  # Nairobi landline
        "0202345678",
        "254202345678",  # landline in international form
        "041 222 3333",  # Mombasa landline
        "612345678",  # 9 digits not starting 7 or 1
        "++254712345678",
        "+0712345678",
        "٠٧١٢٣٤٥٦٧٨",  # Arabic-Indic digits
        "0712\x00345678",
        "0712/345/678",
    ],
)
def test_other_inputs_are_rejected_with_a_clear_message(raw):
    with pytest.raises(ValidationError) as excinfo:
        normalise_phone(raw)
    assert "Kenyan mobile number" in excinfo.value.messages[0]


def test_safaricom_hint_does_not_decide_validity():
    assert is_probably_safaricom("254712345678")
    assert is_probably_safaricom("254110123456")
    assert not is_probably_safaricom("254733123456")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0712 345 678", "+254712345678"),
        ("+254 110 123 456", "+254110123456"),
        ("254733123456", "+254733123456"),  # Airtel: still a Kenyan mobile
        ("+44 7700 900123", "+447700900123"),
        ("0044 7700-900-123", "+447700900123"),
        ("+1 (202) 555-0143", "+12025550143"),
        ("+255 712 345 678", "+255712345678"),
    ],
)
def test_a_mobile_number_to_sign_in_with_is_kenyan_or_e164(raw, expected):
    assert normalise_mobile(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "0712",
        "020 123 4567",
        "+254 20 1234567",
        "7700 900123",
        "+0 123456789",
        "+1234",
        "++447700900123",
        "+٤٤7700900123",
        "+1 202 555 0143 555 0143",
        None,
        712345678,
    ],
)
def test_a_number_without_its_country_code_or_not_a_mobile_is_refused(raw):
    with pytest.raises(ValidationError) as excinfo:
        normalise_mobile(raw)
    assert "with its code" in excinfo.value.messages[0]


def test_kenyan_part_is_the_daraja_form_or_nothing():
    assert kenyan_part("+254712345678") == "254712345678"
    assert kenyan_part("+447700900123") == ""


def test_mask_phone_shows_the_number_the_kenyan_way_with_its_middle_hidden():
    assert mask_phone("254712345149") == "0712 ••• 149"
    assert mask_phone("254110345149") == "0110 ••• 149"
    assert "2547" not in mask_phone("254712345149")


def test_mask_phone_of_something_that_is_not_a_normalised_number_still_hides_its_middle():
    assert mask_phone("+1 415 555 0100") == "+1••••••••••100"
    assert mask_phone("12345") == "•••••"


def test_format_phone_groups_the_whole_number_as_dialled_in_kenya():
    assert format_phone("254712345149") == "0712 345 149"
    assert format_phone("254110345149") == "0110 345 149"
    assert format_phone("not a number") == "not a number"


def test_a_number_in_its_e164_form_reads_the_kenyan_way_too():
    assert format_phone("+254712345149") == "0712 345 149"
    assert mask_phone("+254712345149") == "0712 ••• 149"
    assert format_phone("+447700900123") == "+447700900123"  # another country's number stays as its owner wrote it


def test_the_phone_filter_shows_whole_numbers_the_kenyan_way():
    from django.template import Context, Template

    rendered = Template("{{ number|phone }}|{{ empty|phone }}").render(
        Context({"number": "254712345149", "empty": None})
    )
    assert rendered == "0712 345 149|"


def test_a_phone_field_shows_a_stored_number_the_kenyan_way_and_typing_as_typed():
    from django import forms

    from core.forms import MpesaPhoneField

    class PhoneForm(forms.Form):
        phone = MpesaPhoneField()

    assert 'value="0712 345 678"' in str(PhoneForm(initial={"phone": "254712345678"})["phone"])
    assert 'value="0712 34"' in str(PhoneForm(data={"phone": "0712 34"})["phone"])
