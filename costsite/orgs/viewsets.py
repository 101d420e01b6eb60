"""The org-scoped base of every `/api/v1/orgs/<org>/...` endpoint.

It owns organization resolution, role checks, the queryset filter and the organization of new
rows. Subclasses say which model, serializer and roles; they refine the queryset through
`refine_queryset`, which can narrow it but never widen it past the organization in the URL.
"""

from functools import cached_property

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.relations import ManyRelatedField, RelatedField

from costsite.accounts.models import User
from costsite.orgs.access import OrgAccess, api_access
from costsite.orgs.roles import MANAGERS, READERS
from costsite.orgs.tokens import TokenAuth


class OrgRolePermission(permissions.BasePermission):
    """404 outside the caller's organizations, 403 for read tokens on writes or too low a role."""

    def has_permission(self, request, view):
        access: OrgAccess = view.access
        read_only_token = access.token is not None and access.token.scope != "write"
        writes = request.method not in permissions.SAFE_METHODS
        if read_only_token and writes and view.action not in view.computation_actions:
            self.message = access.denial_reason()
            return False
        if access.role not in view.roles_for_action():
            self.message = access.denial_reason()
            return False
        return True


class SessionOnly(permissions.BasePermission):
    message = "API tokens cannot manage API tokens; sign in to the web portal instead."

    def has_permission(self, request, view):
        return not isinstance(request.auth, TokenAuth)


ORG_SLUG = OpenApiParameter(
    "org_slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The organization's slug."
)


@extend_schema(parameters=[ORG_SLUG])
# Resolves the organization in the URL and checks the caller's role, for endpoints that are
# about an organization but not about its rows (computations, the catalogue as the organization
# sees it). Row endpoints use OrgScopedViewSet. (Comments, not docstrings, on these bases: the
# API documentation shows a viewset's docstring, inherited ones included.)
class OrgContextViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, OrgRolePermission]
    read_roles = READERS
    write_roles = MANAGERS
    # Per-action overrides, e.g. {"test": MANAGERS}.
    action_roles: dict = {}
    # POST actions that compute and write nothing: allowed to read-scope tokens.
    computation_actions: frozenset = frozenset()

    @cached_property
    def access(self) -> OrgAccess:
        return api_access(self.request, self.kwargs["org_slug"])

    @property
    def org(self):
        return self.access.organization

    def roles_for_action(self):
        if self.action in self.action_roles:
            return self.action_roles[self.action]
        if self.request.method in permissions.SAFE_METHODS:
            return self.read_roles
        return self.write_roles

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and "org_slug" in self.kwargs:
            context["org"] = self.org
            context["access"] = self.access
        return context


class ReadOnlyRequestsMixin:
    """For viewsets whose requests never write: no request-wide transaction (ATOMIC_REQUESTS),
    which saves two database round trips per request."""

    writes_nothing = True

    @classmethod
    def as_view(cls, *args, **kwargs):
        return transaction.non_atomic_requests(super().as_view(*args, **kwargs))


# Rows of the organization in the URL. List it first among a subclass's bases, before DRF's
# mixins (or use OrgScopedModelViewSet for the full set).
class OrgScopedViewSet(OrgContextViewSet):
    lookup_value_regex = r"[0-9]+"

    def refine_queryset(self, queryset):
        """Override to add select_related, annotations or narrower filters."""
        return queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.refine_queryset(self.queryset.all()).for_org(self.org)

    def perform_create(self, serializer):
        serializer.save(organization=self.org)


class OrgScopedFieldsMixin:
    """Restricts every related field whose model is tenant-owned to the URL's organization, so
    an id from another organization is a 400 ("object does not exist"), never a cross-link."""

    def get_fields(self):
        fields = super().get_fields()
        org = self.context.get("org")
        for field in fields.values():
            relation = field.child_relation if isinstance(field, ManyRelatedField) else field
            if not isinstance(relation, RelatedField) or relation.read_only:
                continue
            queryset = relation.queryset
            if queryset is not None and hasattr(queryset, "for_org"):
                relation.queryset = queryset.for_org(org) if org else queryset.none()
        return fields


class OrgPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """DRF's, but an id no row can have (1e400 reads as infinity) is a 400, not a 500."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except OverflowError:
            self.fail("does_not_exist", pk_value=data)


class OrgMemberField(OrgPrimaryKeyField):
    """A user id that must belong to the organization in the URL (an impossible id is a 400
    too)."""

    def get_queryset(self):
        org = self.context.get("org")
        if org is None:
            return User.objects.none()
        return User.objects.filter(memberships__organization=org)


class OrgScopedSerializer(OrgScopedFieldsMixin, serializers.ModelSerializer):
    """A model serializer whose related fields are limited to the URL's organization; new rows
    always get the URL's organization, whatever the viewset does."""

    serializer_related_field = OrgPrimaryKeyField

    def create(self, validated_data):
        validated_data["organization"] = self.context["org"]
        return super().create(validated_data)

    def check_unique(self, message: str, **lookup) -> None:
        """400 if another row of this model in the organization matches `lookup`."""
        rows = self.Meta.model.objects.for_org(self.context["org"]).filter(**lookup)
        if self.instance is not None:
            rows = rows.exclude(pk=self.instance.pk)
        if rows.exists():
            raise serializers.ValidationError(message)


class OrgScopedModelViewSet(
    OrgScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    pass  # list, retrieve, create, update and delete (documented per subclass)
