from django.contrib import admin
from django.urls import include, path

from articles import views as article_views

admin.site.site_header = "Masthead administration"
admin.site.site_title = "Masthead admin"

urlpatterns = [
    path("", article_views.home, name="home"),
    path("", include("articles.urls")),
    path("", include("billing.urls")),
    path("account/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
