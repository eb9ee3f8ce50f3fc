from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("account/", views.account, name="account"),
    path("account/email-preferences/", views.email_preferences, name="email_preferences"),
    path("accounts/signup/resend/", views.signup_resend, name="signup_resend"),
    path("accounts/signup/wrong-address/", views.signup_wrong_address, name="signup_wrong_address"),
    path("newsletter/subscribe/", views.newsletter_signup, name="newsletter_signup"),
    path("newsletter/confirm/<str:token>/", views.newsletter_confirm, name="newsletter_confirm"),
    path(
        "newsletter/unsubscribe/<str:token>/",
        views.newsletter_unsubscribe,
        name="newsletter_unsubscribe",
    ),
]
