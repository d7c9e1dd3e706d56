from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import forms, two_factor_views, views
from .ratelimit import rate_limit

accounts = [
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=forms.EmailLoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(form_class=forms.ChangePasswordForm),
        name="password_change",
    ),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path(
        "password/reset/",
        rate_limit("password-reset", per_hour=10)(
            # The form writes the email to the outbox (notifications' password_reset template).
            auth_views.PasswordResetView.as_view(form_class=forms.ResetRequestForm)
        ),
        name="password_reset",
    ),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=forms.NewPasswordForm, post_reset_login=False),
        name="password_reset_confirm",
    ),
    path("2fa/setup/", two_factor_views.setup, name="two-factor-setup"),
    path("2fa/verify/", two_factor_views.verify, name="two-factor-verify"),
    path("2fa/recovery-codes/", two_factor_views.recovery_codes, name="two-factor-recovery-codes"),
    path("2fa/disable/", two_factor_views.disable, name="two-factor-disable"),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("session/keepalive", views.session_keepalive, name="session-keepalive"),
    path("language", views.language_switch, name="language-switch"),
    path("accounts/", include(accounts)),
    path("me/", views.home_for_user, name="home-for-user"),
    path("", include("patients.urls")),
    path("", include("portal.urls")),
    path("", include("booking.urls")),
    path("", include("payments.urls")),
    path("nurse/", include("nurses.urls")),
    path("", include("notifications.urls")),
    path("admin/", admin.site.urls),
]
