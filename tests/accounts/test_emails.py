"""One free trial per person: the normal form that recognises a person across addresses
(accounts/emails.py)."""

import pytest

from accounts.emails import email_fingerprint, normalise_email


@pytest.mark.parametrize(
    ("typed", "person"),
    [
        ("Alice@Example.COM", "alice@example.com"),  # case never matters
        ("alice+news@example.com", "alice@example.com"),  # a +tag is the same mailbox
        ("alice+a+b@example.com", "alice@example.com"),  # only the first + starts the tag
        ("Some.One@gmail.com", "someone@gmail.com"),  # Gmail ignores dots
        ("Some.One+x@gmail.com", "someone@gmail.com"),
        ("s.o.m.e.o.n.e@GoogleMail.com", "someone@gmail.com"),  # googlemail.com is gmail.com
        ("first.last@example.com", "first.last@example.com"),  # elsewhere dots are part of the name
        ("first.last+tag@outlook.com", "first.last@outlook.com"),
        ("  alice@example.com  ", "alice@example.com"),  # stray spaces from a form
    ],
)
def test_addresses_of_one_person_normalise_to_one_form(typed, person):
    assert normalise_email(typed) == person


def test_the_fingerprint_is_the_same_for_one_person_and_differs_between_people():
    assert email_fingerprint("Some.One+x@gmail.com") == email_fingerprint("someone@googlemail.com")
    assert email_fingerprint("someone@gmail.com") != email_fingerprint("someone@example.com")


def test_the_fingerprint_does_not_contain_the_address():
    fingerprint = email_fingerprint("someone@gmail.com")

    assert "someone" not in fingerprint
    assert len(fingerprint) == 64
