from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from costsite.accounts.forms import AdminLoginForm
from costsite.accounts.models import User, login_key
from costsite.accounts.views import throttled_admin_login

# The admin's log-in page is throttled like the portal's, and answers 429 like it when locked.
admin.site.login_form = AdminLoginForm
admin.site.login = throttled_admin_login(admin.site.login)


class SuperuserOnlyMixin:
    """For records that change who may do what: only superusers see or edit them in admin."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class EmailAsStoredMixin:
    """The email as User.save stores it, before the uniqueness check: `ALICE@a.example` is a
    duplicate of alice@a.example (a form error), not a new row for the database to refuse."""

    def clean_email(self):
        return login_key(self.cleaned_data["email"])


class UserCreationAdminForm(EmailAsStoredMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeAdminForm(EmailAsStoredMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(SuperuserOnlyMixin, BaseUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_superuser", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name"]}),
        (
            "Access",
            {
                "fields": ["is_active", "is_staff", "is_superuser"],
                "description": "Staff users reach the admin site for organizations where they "
                "are finance, admin or owner.",
            },
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {"classes": ["wide"], "fields": ["email", "usable_password", "password1", "password2"]},
        )
    ]
    filter_horizontal = []
