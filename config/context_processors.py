from django.conf import settings


def site(request):
    # TRIAL_DAYS = 0 turns the free trial off: no page may then offer one
    return {"SITE_NAME": settings.SITE_NAME, "TRIAL_DAYS": settings.TRIAL_DAYS}
