from django.conf import settings
from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("pay/payment/<oid:payment_id>/", views.pay, name="pay"),
    path("pay/return/<oid:payment_id>/", views.pay_return, name="return"),
    path("pay/status/<oid:payment_id>/", views.pay_status, name="status"),
    path("stripe/webhook/", views.stripe_webhook, name="webhook"),
]

# The local test gateway's card page exists only where that gateway is the one in use.
if settings.PAYMENT_GATEWAY == "fake":
    urlpatterns.append(path("pay/fake/<slug:client_secret>/", views.fake_pay, name="fake_pay"))
