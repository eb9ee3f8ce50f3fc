from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from articles import feeds, seo
from articles import views as article_views
from articles.sitemaps import SITEMAPS
from config import bench_views
from config.health import healthz

admin.site.site_header = "Masthead administration"
admin.site.site_title = "Masthead admin"
# The admin's own login skips allauth's rate limits and two-factor step: send it to allauth's.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", article_views.home, name="home"),
    path("", include("articles.urls")),
    path("", include("billing.urls")),
    path("", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("feed/", feeds.LatestArticlesFeed(), name="feed"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", seo.robots_txt, name="robots_txt"),
    path("healthz", healthz, name="healthz"),
]
if settings.ANYMAIL.get("WEBHOOK_SECRET"):
    # the mail provider's tracking webhooks (bounces, complaints: accounts.receivers), through
    # django-anymail, which checks that secret (basic auth) and the provider's own signature
    urlpatterns.append(path("anymail/", include("anymail.urls")))
if settings.BENCH_CEILING:
    urlpatterns.append(path("_ceiling/", bench_views.hello))
