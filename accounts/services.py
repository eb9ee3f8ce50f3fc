"""Writes to members' records. Each function is atomic and safe to call twice.

The member's Membership row (what the entitlement policy reads) is written only here, each
function updating just the fields of the change it owns; billing reports a subscription's
state through `membership_subscription_set`, with plain values.
"""

from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import mail
from accounts.emails import email_fingerprint
from accounts.models import (
    ComplimentaryAccess,
    Membership,
    MeterRead,
    Newsletter,
    NewsletterSubscription,
    Suppression,
    SuppressionReason,
    TrialClaim,
    User,
    meter_month,
)


def membership_for(*, user_id: int) -> Membership:
    """The member's Membership, created if it is missing (every member gets one when created)."""
    return Membership.objects.get_or_create(user_id=user_id)[0]


def membership_lock(*, user_id: int) -> None:
    """Hold the member's Membership row until the current transaction ends.

    A writer that reads other records to decide what to write (billing, which subscription is
    current) takes this first, so two such writers for one member go one after the other and
    the later one reads what the earlier one committed.
    """
    membership_for(user_id=user_id)
    Membership.objects.select_for_update().only("pk").get(pk=user_id)


# ---- email verification -----------------------------------------------------------


def membership_email_verified_refresh(*, user_id: int) -> None:
    """Record whether the member has a verified email address (allauth keeps the addresses).

    Called whenever one of their addresses is saved or deleted (accounts.receivers); the
    first verification's moment is kept while any address stays verified.
    """
    verified = EmailAddress.objects.filter(user_id=user_id, verified=True).exists()
    rows = Membership.objects.filter(pk=user_id)
    if verified:
        rows.filter(email_verified_at__isnull=True).update(email_verified_at=timezone.now())
    else:
        rows.update(email_verified_at=None)


# ---- the free trial -------------------------------------------------------------------


def trial_start(*, user: User, email: str | None = None) -> bool:
    """Start the member's free trial, once per person. Returns whether a trial started.

    Called when the member verifies an email address. A person is recognised by the
    normalised form of that address, across accounts, including deleted ones.
    """
    if settings.TRIAL_MODE == "card":
        return False  # in card mode the trial starts at Stripe Checkout instead
    if settings.TRIAL_DAYS == 0:
        return False  # trials are off: a zero-length one would still use up the person's claim
    if membership_for(user_id=user.pk).has_had_trial():
        return False
    try:
        with transaction.atomic():
            TrialClaim.objects.create(
                email_digest=email_fingerprint(email or user.email), user=user
            )
            now = timezone.now()
            ends = now + timedelta(days=settings.TRIAL_DAYS)
            started = Membership.objects.filter(pk=user.pk, trial_started_at__isnull=True).update(
                trial_started_at=now, trial_ends_at=ends
            )
            if not started:  # a concurrent verification of another address won the race
                raise IntegrityError("trial already started")
            mail.queue(
                mail.TRIAL_STARTED,
                user_id=user.pk,
                key=f"trial_started:{user.pk}",
                context={"trial_ends_at": ends.isoformat()},
            )
    except IntegrityError:
        return False
    return True


def trial_extend(*, user: User, days: int) -> None:
    """Give the member `days` more of trial, counted from its end or from now if it is over.

    A member who never had a trial gets one, which also records their claim.
    """
    if days < 1:
        raise ValueError("A trial is extended by at least one day.")
    now = timezone.now()
    membership_for(user_id=user.pk)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=user.pk)
        if membership.trial_started_at is None:
            TrialClaim.objects.get_or_create(
                email_digest=email_fingerprint(user.email), defaults={"user": user}
            )
            membership.trial_started_at = now
        membership.trial_ends_at = max(membership.trial_ends_at or now, now) + timedelta(days=days)
        membership.trial_ended_at = None  # the new end has yet to be processed
        membership.save(update_fields=["trial_started_at", "trial_ends_at", "trial_ended_at"])


def trial_set(*, user_id: int, started_at: datetime | None, ends_at: datetime | None) -> None:
    """Set the member's trial by hand (staff, in the admin); a new end is processed afresh."""
    if (started_at is None) != (ends_at is None):
        raise ValueError("A trial needs both its start and its end (or neither).")
    membership_for(user_id=user_id)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=user_id)
        if ends_at != membership.trial_ends_at:
            membership.trial_ended_at = None  # the new end has yet to be processed
        membership.trial_started_at, membership.trial_ends_at = started_at, ends_at
        membership.save(update_fields=["trial_started_at", "trial_ends_at", "trial_ended_at"])


# ---- complimentary access -------------------------------------------------------------


def complimentary_grant(
    *,
    user: User,
    until: datetime,
    reason: str,
    granted_by: User | None,
    starts_at: datetime | None = None,
) -> ComplimentaryAccess:
    """Full access for `user` from `starts_at` (default now) until `until`, whatever their subscription says."""
    starts_at = starts_at or timezone.now()
    if until <= timezone.now() or until <= starts_at:
        raise ValueError("Complimentary access must end in the future, after it starts.")
    with transaction.atomic():
        grant = ComplimentaryAccess.objects.create(
            user=user, starts_at=starts_at, until=until, reason=reason, granted_by=granted_by
        )
        complimentary_refresh(user_id=user.pk)
    return grant


def complimentary_end_now(*, grant_ids: list[int]) -> int:
    """End these grants now (those in force); returns how many it ended."""
    now = timezone.now()
    with transaction.atomic():
        grants = ComplimentaryAccess.objects.filter(
            pk__in=grant_ids, starts_at__lt=now, until__gt=now
        )
        user_ids = set(grants.values_list("user_id", flat=True))
        ended = grants.update(until=now, ended_at=now)
        for user_id in user_ids:
            complimentary_refresh(user_id=user_id)
    return ended


def complimentary_refresh(*, user_id: int, now: datetime | None = None) -> None:
    """Copy the member's grants onto their Membership as one period: the one in force, or the next.

    Overlapping or touching grants merge into one period. A later grant that starts after a
    gap takes over when the periodic job (`complimentary_end_due`) records the earlier one's end.
    """
    now = now or timezone.now()
    start = end = None
    grants = ComplimentaryAccess.objects.filter(user_id=user_id, until__gt=now).order_by(
        "starts_at", "until"
    )
    for grant_start, grant_end in grants.values_list("starts_at", "until"):
        if start is None:
            start, end = grant_start, grant_end
        elif grant_start <= end:
            end = max(end, grant_end)
        else:
            break
    membership_for(user_id=user_id)
    Membership.objects.filter(pk=user_id).update(complimentary_from=start, complimentary_until=end)


def complimentary_end_due(*, now: datetime | None = None) -> int:
    """Record the end of grants past their date, and move each member on to their next grant.

    Access already ended by the clock; this is the record. Returns how many grants it ended.
    """
    now = now or timezone.now()
    due = ComplimentaryAccess.objects.due(now)
    user_ids = set(due.values_list("user_id", flat=True))
    ended = due.update(ended_at=now)
    for user_id in user_ids:
        complimentary_refresh(user_id=user_id, now=now)
    return ended


# ---- what billing reports ---------------------------------------------------------------


def membership_subscription_set(
    *, user_id: int, status: str, ends_at: datetime | None, payment_failed_at: datetime | None
) -> None:
    """Record the state of the member's current subscription, as billing has it from Stripe.

    status: Stripe's status ("" for none); ends_at: when a subscription set to cancel stops
    giving access (None while it renews); payment_failed_at: when the current run of failed
    payments began (None when paid up). Billing calls this in the transaction that changes
    its copy of the subscription, so the two never disagree.
    """
    membership_for(user_id=user_id)
    Membership.objects.filter(pk=user_id).update(
        subscription_status=status,
        subscription_ends_at=ends_at,
        payment_failed_at=payment_failed_at,
    )


# ---- newsletters ----------------------------------------------------------------------

CONFIRM_SALT = "accounts.newsletter-confirm"
UNSUBSCRIBE_SALT = "accounts.newsletter-unsubscribe"
# How long a sign-up's confirmation link works: long enough for a weekend away from the inbox,
# short enough that an old forwarded mail cannot subscribe someone months later.
CONFIRM_MAX_AGE = timedelta(days=7)


class BadNewsletterLink(Exception):
    """A confirmation or unsubscribe link that is forged, mangled, expired or names nothing here."""


def newsletter_signup(*, email: str, newsletters: list[Newsletter]) -> None:
    """Mail `email` a link that confirms its subscription to `newsletters` (double opt-in).

    An address no member has becomes a newsletter-only member: no password, no trial, nothing
    mailed but this until they confirm. The same happens whoever owns the address, so the page
    that called this can say the same to everyone and never tells whether an address is a
    member's. One confirmation a day per address and list: a form posted again sends nothing new.
    """
    email = email.strip()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first() or _newsletter_reader(email)
        ids = sorted(newsletter.pk for newsletter in newsletters)
        token = signing.dumps({"u": user.pk, "n": ids}, salt=CONFIRM_SALT, compress=True)
        mail.queue(
            mail.NEWSLETTER_CONFIRM,
            user_id=user.pk,
            key=f"newsletter_confirm:{user.pk}:{timezone.now():%Y-%m-%d}:{','.join(map(str, ids))}",
            context={
                "confirm_url": settings.SITE_URL
                + reverse("accounts:newsletter_confirm", args=[token]),
                "newsletters": [newsletter.name for newsletter in newsletters],
            },
        )


def _newsletter_reader(email: str) -> User:
    """A new newsletter-only member for `email`, or the one a concurrent sign-up just made."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(email)  # an unusable password: set one later to sign in
            Membership.objects.filter(pk=user.pk).update(newsletter_only=True)
            EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
            return user
    except IntegrityError:  # the same address posted twice at once: the other request made it
        return User.objects.get(email__iexact=email)


def newsletter_confirm(*, token: str) -> User:
    """Subscribe the link's address to its newsletters; raises BadNewsletterLink for a bad link.

    For a newsletter-only member the link also proves the address is theirs (it is verified,
    but no trial starts: that waits for a password). Confirming twice changes nothing.
    """
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
        user = User.objects.select_related("membership").get(pk=data["u"])
    except (signing.BadSignature, KeyError, TypeError, User.DoesNotExist):
        raise BadNewsletterLink() from None
    with transaction.atomic():
        if membership_for(user_id=user.pk).newsletter_only:
            for address in EmailAddress.objects.filter(
                user=user, email__iexact=user.email, verified=False
            ):
                address.verified = True
                address.save()  # through save(): the membership's verification follows (receivers)
        for newsletter in Newsletter.objects.filter(pk__in=data["n"]):
            NewsletterSubscription.objects.get_or_create(user=user, newsletter=newsletter)
        # asking again, by a link only the inbox's owner has, lifts their own "unsubscribe from all"
        Suppression.objects.filter(
            email=user.email.lower(), reason=SuppressionReason.UNSUBSCRIBED
        ).delete()
    return user


def newsletter_subscribe_defaults(*, user: User) -> None:
    """A new member gets the newsletters staff mark as default."""
    for newsletter in Newsletter.objects.filter(is_default=True):
        NewsletterSubscription.objects.get_or_create(user=user, newsletter=newsletter)


def newsletter_preferences_set(*, user: User, newsletters) -> None:
    """The member's newsletters become exactly `newsletters`."""
    chosen = {newsletter.pk for newsletter in newsletters}
    with transaction.atomic():
        NewsletterSubscription.objects.filter(user=user).exclude(newsletter__in=chosen).delete()
        for newsletter_id in chosen:
            NewsletterSubscription.objects.get_or_create(user=user, newsletter_id=newsletter_id)


def unsubscribe_token(*, user_id: int, newsletter_id: int) -> str:
    """The token in a newsletter message's unsubscribe link. It does not expire: RFC 8058 links
    must keep working as long as the message sits in an inbox."""
    return signing.dumps([user_id, newsletter_id], salt=UNSUBSCRIBE_SALT)


def newsletter_unsubscribe(*, token: str) -> tuple[User, Newsletter]:
    """Take the link's member off the link's newsletter (again: a second POST changes nothing)."""
    try:
        user_id, newsletter_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user = User.objects.get(pk=user_id)
        newsletter = Newsletter.objects.get(pk=newsletter_id)
    except (
        signing.BadSignature,
        ValueError,
        TypeError,
        User.DoesNotExist,
        Newsletter.DoesNotExist,
    ):
        raise BadNewsletterLink() from None
    NewsletterSubscription.objects.filter(user=user, newsletter=newsletter).delete()
    return user, newsletter


def newsletter_member_upgrade(*, user: User) -> bool:
    """A newsletter-only member who has set a password is a member: their trial starts now.

    Returns whether they were newsletter-only. Their address was verified when they confirmed
    the sign-up, or by the password reset link itself.
    """
    if not Membership.objects.filter(pk=user.pk, newsletter_only=True).update(
        newsletter_only=False
    ):
        return False
    for address in EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=False):
        address.verified = True  # the password reset link went to this address
        address.save()
    trial_start(user=user)
    return True


def suppression_add(*, email: str, reason: str, detail: str = "") -> Suppression:
    """No more bulk mail to `email` (a bounce, a complaint, an unsubscribe from all, staff)."""
    suppression, _ = Suppression.objects.update_or_create(
        email=email.strip().lower(), defaults={"reason": reason, "detail": detail[:300]}
    )
    return suppression


@transaction.atomic
def signup_abandon(*, user_id: int) -> bool:
    """Delete an account whose address was never confirmed and that was never signed in to.

    For "Wrong address?" right after signing up. Returns whether it deleted; an account
    that was confirmed or used meanwhile is left alone.
    """
    deleted, _ = (
        User.objects.filter(pk=user_id, last_login__isnull=True)
        .exclude(emailaddress__verified=True)
        .delete()
    )
    return bool(deleted)


# ---- the meter ------------------------------------------------------------------------

# One statement, so it is atomic on its own (no transaction or savepoint around it): the read
# takes the month's next slot only while that slot is within the allowance. The constraints
# on (member, month, article) and (member, month, slot) turn a re-read, or a concurrent read
# that took the same slot first, into "nothing inserted", and never into a read over N.
_METER_READ_INSERT = """
    INSERT INTO {table} (user_id, month, article_id, slot, read_at)
    SELECT %s, %s, %s, so_far.n + 1, %s
    FROM (SELECT count(*) AS n FROM {table} WHERE user_id = %s AND month = %s) AS so_far
    WHERE so_far.n < %s
    ON CONFLICT DO NOTHING
    RETURNING slot
"""


def meter_read_record(*, user_id: int, article_id: int, now: datetime) -> int | None:
    """Spend one of the member's free reads of `now`'s month on the article, once.

    Returns how many reads the member has used this month with this one, or None when the
    allowance (METERED_FREE_ARTICLES) is used up and the article was not read before. A
    re-read spends nothing and returns the count. The limit holds under any concurrency:
    two first reads at once compute the same slot, the unique slot keeps one, and the other
    tries again with a fresh count (each try is a new statement, so it sees the first's
    commit); at most allowance + 1 tries, since each lost try means another read took a slot.

    Chosen over a counter row updated with "WHERE used < N": that needs the counter and the
    read written together, a transaction (and, inside a request's test transaction, two
    savepoint queries); this is one INSERT in the common case, within the article page's budget.
    """
    month = meter_month(now)
    allowance = settings.METERED_FREE_ARTICLES
    table = connection.ops.quote_name(MeterRead._meta.db_table)
    sql = _METER_READ_INSERT.format(table=table)
    for _ in range(allowance + 1):
        with connection.cursor() as cursor:
            cursor.execute(sql, [user_id, month, article_id, now, user_id, month, allowance])
            row = cursor.fetchone()
        if row is not None:
            return row[0]
        reads = MeterRead.objects.filter(user_id=user_id, month=month)
        if reads.filter(article_id=article_id).exists():
            return reads.count()  # read before (perhaps in another tab, a moment ago)
        if reads.count() >= allowance:
            return None
    return None


def meter_reads_prune(*, now: datetime) -> int:
    """Delete meter reads from before the previous calendar month; returns how many.

    The current month's reads are the allowance; the previous month's are kept for staff
    (and a month-boundary request still resolving the old month). Older ones serve nothing.
    """
    keep_from = (meter_month(now) - timedelta(days=1)).replace(day=1)
    deleted, _ = MeterRead.objects.filter(month__lt=keep_from).delete()
    return deleted
