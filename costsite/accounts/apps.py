from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "costsite.accounts"
    label = "accounts"
    verbose_name = "Accounts"
