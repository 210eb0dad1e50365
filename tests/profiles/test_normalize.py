"""Identity values in one canonical form: phones by the channel's region, mailboxes by provider rules."""

from __future__ import annotations

import pytest

from profiles.models import Customer, Identity, IdentityKind
from profiles.normalize import (
    NormalizationError,
    match_key,
    normalize_email,
    normalize_identity,
    normalize_or_keep,
    normalize_phone,
)
from profiles.services import do_resolve_sender, find_identity

PHONE, EMAIL, WHATSAPP = IdentityKind.PHONE, IdentityKind.EMAIL, IdentityKind.WHATSAPP


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # Russia: 8 is the trunk prefix, +7 the country; both spell one number.
        ("8 (912) 345-67-89", "RU", "+79123456789"),
        ("89123456789", "ru", "+79123456789"),
        ("912 345 67 89", "RU", "+79123456789"),
        ("+7 (912) 345-67-89", "RU", "+79123456789"),
        ("+7 912 345 67 89", "", "+79123456789"),
        ("+7 912 345 67 89", "PL", "+79123456789"),  # an explicit country beats the channel's
        ("8 800 555-35-35", "RU", "+78005553535"),
        ("+7 912 345 67 89 доб. 123", "", "+79123456789"),
        # Poland: nine-digit national numbers, no trunk prefix.
        ("601 234 567", "PL", "+48601234567"),
        ("601-234-567", "pl", "+48601234567"),
        ("(22) 123 45 67", "PL", "+48221234567"),
        ("+48 601 234 567", "", "+48601234567"),
        ("0048 601 234 567", "", "+48601234567"),
        ("tel:+48601234567", "", "+48601234567"),
        # English-speaking regions.
        ("(415) 555-2671", "US", "+14155552671"),
        ("+1 415-555-2671", "GB", "+14155552671"),
        ("07911 123456", "GB", "+447911123456"),
        ("+44 7911 123456", "", "+447911123456"),
        # E.164 without its plus (WhatsApp's wa_id) on a channel without a region.
        ("48601234567", "", "+48601234567"),
        ("79123456789", "", "+79123456789"),
    ],
)
def test_phone_numbers_become_e164(raw, region, expected):
    assert normalize_phone(raw, region) == expected
    assert normalize_identity(PHONE, raw, region) == expected
    assert normalize_or_keep(PHONE, raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("8 (912) 345-67-89", ""),  # national, and no region to read it with
        ("601 234 567", ""),  # would otherwise become a Malaysian +60 number
        ("8 (912) 345-67-89", "PL"),  # a Russian national number is not Polish
        ("12", "RU"),
        ("+7 123", ""),
        ("+999 123 456", ""),
        ("123456789012345678", ""),
        ("---", "PL"),
    ],
)
def test_invalid_numbers_are_refused_but_kept_as_given_for_inbound(raw, region):
    with pytest.raises(NormalizationError):
        normalize_identity(PHONE, raw, region)
    assert normalize_or_keep(PHONE, f"  {raw} ", region) == raw


def test_refusal_quotes_what_was_given():
    with pytest.raises(NormalizationError, match=r"8 \(912\)"):
        normalize_phone("8 (912) 345-67-89")


def test_whatsapp_ids_are_phone_numbers():
    assert normalize_identity(WHATSAPP, "whatsapp:+48 601 234 567") == "+48601234567"
    assert normalize_identity(WHATSAPP, "48601234567") == "+48601234567"
    with pytest.raises(NormalizationError):
        normalize_identity(WHATSAPP, "MYSHOP")


def test_sms_sender_names_are_kept_as_they_are():
    assert normalize_identity(PHONE, " MYSHOP ") == "MYSHOP"
    assert normalize_or_keep(PHONE, "900") == "900"  # a short code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Anna.Kowalska@Example.PL", "anna.kowalska@example.pl"),
        ("  <MAILTO:Foo@Example.com> ", "foo@example.com"),
        ("x@EXAMPLE.com.", "x@example.com"),
        # Only case goes: dots and tags stay, replies go to the address as written.
        ("Laura.Chen+shop@Gmail.COM", "laura.chen+shop@gmail.com"),
        ("ivan.petrov@googlemail.com", "ivan.petrov@googlemail.com"),
        # Internationalized domains in their ASCII form; a Unicode local part keeps its letters.
        ("Иван@Пример.РФ", "иван@xn--e1afmkfd.xn--p1ai"),
        ("ivan@xn--e1afmkfd.xn--p1ai", "ivan@xn--e1afmkfd.xn--p1ai"),
        ("user@München.de", "user@xn--mnchen-3ya.de"),
        ("ŁUKASZ@wp.pl", "łukasz@wp.pl"),
        ("Straße@example.de", "straße@example.de"),  # casefold would make it another mailbox
    ],
)
def test_email_addresses_are_case_folded_only(raw, expected):
    assert normalize_email(raw) == expected
    assert normalize_identity(EMAIL, raw) == expected


@pytest.mark.parametrize("raw", ["a@b", "@example.com", "a@@example.com", "a b@example.com", "", "anna"])
def test_malformed_email_addresses_are_refused_but_kept_for_inbound(raw):
    with pytest.raises(NormalizationError):
        normalize_identity(EMAIL, raw)
    assert normalize_or_keep(EMAIL, raw) == raw


def test_unicode_spellings_of_one_domain_are_one_value():
    assert normalize_email("ivan@пример.рф") == normalize_email("IVAN@XN--E1AFMKFD.XN--P1AI")
    # Composed and decomposed forms of one letter are one address.
    assert normalize_email("zo\u0308e@example.com") == normalize_email("z\u00f6e@example.com")


def key(address: str) -> str:
    return match_key(EMAIL, normalize_email(address))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("laurachen@gmail.com", "Laura.Chen+shop@Gmail.com"),
        ("laurachen@gmail.com", "l.a.u.r.a.chen@googlemail.com"),
        ("ivan-petrov@yandex.ru", "Ivan.Petrov@ya.ru"),
        ("ivan-petrov@yandex.ru", "ivan.petrov+orders@yandex.com"),
        ("ivan-petrov@yandex.ru", "ivan-petrov@yandex.kz"),
        ("jan.kowalski@outlook.com", "jan.kowalski+faktury@outlook.com"),
        ("anna@icloud.com", "anna+news@icloud.com"),
    ],
)
def test_match_key_joins_spellings_of_one_mailbox(one, other):
    assert key(one) == key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("jan.kowalski@outlook.com", "jankowalski@outlook.com"),  # only Gmail ignores dots
        ("anna.k+x@example.pl", "anna.k@example.pl"),  # unknown providers keep their tags
        ("anna.k@example.pl", "annak@example.pl"),
        ("laura@gmail.com", "laura@gmail.co"),
        ("ivan.petrov@mail.ru", "ivan-petrov@mail.ru"),  # dot = hyphen is Yandex's rule only
        ("laura@gmail.com", "laura@yandex.ru"),
        ("straße@example.de", "strasse@example.de"),
    ],
)
def test_match_key_keeps_different_mailboxes_apart(one, other):
    assert key(one) != key(other)


@pytest.mark.parametrize("address", ["+tag@gmail.com", "...@gmail.com", "+@yandex.ru"])
def test_a_local_part_the_rules_would_empty_stays_its_own_mailbox(address):
    assert key(address) == normalize_email(address)
    assert key(address) != key("x@gmail.com")


def test_match_key_is_the_value_for_other_kinds():
    assert match_key(PHONE, "+48601234567") == "+48601234567"
    assert match_key(IdentityKind.TELEGRAM, "Laura.Chen") == "Laura.Chen"
    assert match_key(EMAIL, "not-an-address") == "not-an-address"


@pytest.mark.parametrize(
    "kind", [IdentityKind.TELEGRAM, IdentityKind.MESSENGER, IdentityKind.INSTAGRAM, IdentityKind.EXTERNAL_ID]
)
def test_handles_are_opaque_and_case_sensitive(kind):
    assert normalize_identity(kind, "  284716392\n") == "284716392"
    assert normalize_identity(kind, "AbC-123_x") == "AbC-123_x"
    assert normalize_identity(kind, "AbC-123_x") != normalize_identity(kind, "abc-123_x")
    with pytest.raises(NormalizationError):
        normalize_identity(kind, "   ")


@pytest.mark.django_db
def test_sender_spellings_find_one_person():
    first = do_resolve_sender(kind=EMAIL, value="Laura.Chen@gmail.com", display="Laura")
    again = do_resolve_sender(kind=EMAIL, value="laurachen+shop@googlemail.com")
    assert again.pk == first.pk
    # Both spellings are kept: replies go to the address each message came from.
    assert sorted(first.identities.values_list("value", flat=True)) == [
        "laura.chen@gmail.com",
        "laurachen+shop@googlemail.com",
    ]
    assert set(Identity.objects.values_list("match_key", flat=True)) == {"laurachen@gmail.com"}
    other = do_resolve_sender(kind=EMAIL, value="laura.chen@outlook.com")
    assert other.pk != first.pk


@pytest.mark.django_db
def test_phone_senders_meet_across_regions():
    russian = do_resolve_sender(kind=PHONE, value="8 (912) 345-67-89", region="RU")
    international = do_resolve_sender(kind=PHONE, value="+7 912 345 67 89")
    polish = do_resolve_sender(kind=PHONE, value="601 234 567", region="PL")
    assert international.pk == russian.pk != polish.pk
    assert find_identity(PHONE, "+48601234567").customer_id == polish.pk
    # Without a region the national number is kept as written, not misread as another country's.
    unknown = do_resolve_sender(kind=PHONE, value="601 234 567")
    assert unknown.pk not in (russian.pk, polish.pk)
    assert unknown.identities.get().value == "601 234 567"
    assert Customer.objects.count() == 3
