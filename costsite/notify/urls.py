from django.urls import path

from costsite.notify import views

app_name = "notify"
urlpatterns = [
    path("", views.channel_list, name="list"),
    path("<int:channel_id>/", views.channel_detail, name="detail"),
    path("<int:channel_id>/test/", views.send_test, name="test"),
    path("<int:channel_id>/rotate-secret/", views.rotate_secret, name="rotate-secret"),
    path("<int:channel_id>/delete/", views.delete_channel, name="delete"),
]
