"""People who log in. Email is the login name; there is no separate username."""

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models


def login_key(email: str) -> str:
    """The one spelling of an email address that names an account: stored emails are kept in
    this form (User.save), sign-in looks accounts up by it exactly, and the sign-in throttle
    counts failures by it. A case-insensitive lookup in the database would not do: PostgreSQL's
    UPPER() folds more spellings together (UPPER('\u0131') = 'I') than Python's lower(), so one
    account would have many throttle counters."""
    return email.strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email=login_key(username))


class User(AbstractUser):
    username = None
    email = models.EmailField("email address", unique=True)
    first_name = None
    last_name = None
    name = models.CharField(max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.email = login_key(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self):
        return self.name or self.email

    def get_short_name(self):
        return self.name or self.email.split("@")[0]
