from django.urls import path

from spot.views import fleets

app_name = "spot"
urlpatterns = [
    path("", fleets.fleet_list, name="fleet-list"),
]
