from django.urls import path

from . import views

app_name = "nurses"

urlpatterns = [
    path("", views.today, name="today"),
    path("week/", views.week, name="week"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("visits/<int:pk>/on-my-way/", views.on_my_way, name="on_my_way"),
    path("visits/<int:pk>/check-in/", views.check_in, name="check_in"),
    path("visits/<int:pk>/vitals/", views.vitals, name="vitals"),
    path("visits/<int:pk>/dose/", views.dose, name="dose"),
    path("visits/<int:pk>/discharge/", views.discharge, name="discharge"),
    path("visits/<int:pk>/sign/", views.sign, name="sign"),
    path("visits/<int:pk>/no-show/", views.no_show, name="no_show"),
    path("visits/<int:pk>/stop/", views.stop, name="stop"),
    path("visits/<int:pk>/amend/", views.amend, name="amend"),
    path("visits/<int:pk>/override/", views.override, name="override"),
]
