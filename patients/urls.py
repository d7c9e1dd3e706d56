from django.urls import path

from . import views

app_name = "patients"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/terms/", views.terms, name="terms"),
    path("signup/sent/", views.signup_sent, name="signup_sent"),
    path("signup/confirm/<slug:token>/", views.signup_confirm, name="signup_confirm"),
    path("profile/", views.profile, name="profile"),
    path("intake/", views.intake_start, name="intake"),
    path("intake/update/", views.intake_update, name="intake_update"),
    path("intake/discard/", views.intake_discard, name="intake_discard"),
    path("intake/review/", views.intake_review, name="intake_review"),
    path("intake/versions/", views.intake_versions, name="intake_versions"),
    path("intake/versions/<oid:pk>/", views.intake_version, name="intake_version"),
    path("intake/<slug:slug>/", views.intake_section, name="intake_section"),
    path("questionnaires/", views.screenings, name="screenings"),
    path("questionnaires/results/<oid:pk>/", views.screening_result, name="screening_result"),
    path("questionnaires/results/<oid:pk>/support/", views.screening_support, name="screening_support"),
    path("questionnaires/<slug:instrument>/", views.screening_form, name="screening"),
]
