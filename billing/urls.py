from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("pricing/", views.pricing, name="pricing"),
    path("billing/checkout/", views.checkout, name="checkout"),
    path("billing/success/", views.success, name="success"),
    path("billing/portal/", views.portal, name="portal"),
    path("billing/resume/", views.resume, name="resume"),
    path("billing/stripe/webhook/", views.webhook, name="webhook"),
]
