"""Email normalisation, for judging "one free trial per person".

Mail always goes to the address as typed; the normal form is only for comparing people.
"""

import hashlib

# Providers that ignore dots in the local part; googlemail.com is an alias of gmail.com.
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def normalise_email(address: str) -> str:
    """Some.One+news@GoogleMail.com -> someone@gmail.com.

    Lower-cases the whole address, drops a +tag (every large provider delivers
    name+tag@ to name@), and for Gmail drops the dots, which Gmail ignores.
    """
    local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        domain = DOTLESS_DOMAINS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_fingerprint(address: str) -> str:
    """A one-way digest of the normalised address.

    Trial claims outlive deleted accounts, so they keep this digest rather than the
    address itself: enough to recognise a returning person, not to mail or list them.
    """
    return hashlib.sha256(normalise_email(address).encode()).hexdigest()
