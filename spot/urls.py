from django.urls import path

from spot.views import advice, events, fleets, idle

app_name = "spot"
urlpatterns = [
    path("", fleets.fleet_list, name="fleet-list"),
    path("events/", events.event_list, name="events"),
    path("advice/", advice.advice_page, name="advice"),
    path("idle/", idle.idle_page, name="idle"),
    path("idle/delete/", idle.idle_delete, name="idle-delete"),
    path("new/", fleets.fleet_new, name="fleet-new"),
    path("<int:fleet_id>/", fleets.fleet_detail, name="fleet-detail"),
    path("<int:fleet_id>/cancel/", fleets.fleet_cancel, name="fleet-cancel"),
    path("<int:fleet_id>/interrupt/", fleets.fleet_interrupt, name="fleet-interrupt"),
]
