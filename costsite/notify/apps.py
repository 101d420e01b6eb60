from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "costsite.notify"
    label = "notify"
    verbose_name = "Alert channels"
