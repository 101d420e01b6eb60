"""REST API for organizations, members, invitations, teams and API tokens."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response

from costsite.orgs import invitations, membership, tokens
from costsite.orgs.access import api_access
from costsite.orgs.exceptions import Conflict
from costsite.orgs.models import (
    TEAM_NAME_TAKEN,
    ApiToken,
    Invitation,
    Membership,
    Organization,
    Team,
    TokenScope,
    team_name_taken,
)
from costsite.orgs.roles import MANAGERS, READERS, Role
from costsite.orgs.tokens import TokenAuth
from costsite.orgs.viewsets import (
    OrgMemberField,
    OrgScopedModelViewSet,
    OrgScopedSerializer,
    OrgScopedViewSet,
    SessionOnly,
)

ERRORS = {
    400: OpenApiResponse(description="Invalid input; field errors in the body."),
    401: OpenApiResponse(description="Missing, invalid, expired or revoked credentials."),
    403: OpenApiResponse(description="Role or token scope too low."),
    404: OpenApiResponse(description="Not found in your organizations."),
}


def error_responses(*codes):
    return {code: ERRORS[code] for code in codes}


READ_ERRORS = error_responses(401, 403, 404)
# Lists take filter and page parameters, which are validated (an unknown team id is a 400).
LIST_ERRORS = error_responses(400, 401, 403, 404)
WRITE_ERRORS = error_responses(400, 401, 403, 404)


def crud_schema(serializer, **overrides):
    """OpenAPI responses of the standard actions, with their error responses; `overrides`
    replaces or adds single actions (e.g. `create=extend_schema(description=...)`)."""
    standard = {
        "list": extend_schema(responses={200: serializer(many=True), **LIST_ERRORS}),
        "retrieve": extend_schema(responses={200: serializer, **READ_ERRORS}),
        "create": extend_schema(responses={201: serializer, **WRITE_ERRORS}),
        "update": extend_schema(responses={200: serializer, **WRITE_ERRORS}),
        "partial_update": extend_schema(responses={200: serializer, **WRITE_ERRORS}),
        "destroy": extend_schema(responses={204: None, **READ_ERRORS}),
    }
    return extend_schema_view(**(standard | overrides))


# --- Organizations -----------------------------------------------------------------------------


class OrganizationSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="The caller's role in this organization.")

    class Meta:
        model = Organization
        fields = ["slug", "name", "time_zone", "currency", "created_at", "role"]
        read_only_fields = ["slug", "created_at"]

    def get_role(self, org) -> str:
        return self.context.get("roles", {}).get(org.pk, "")

    def validate_currency(self, value):
        if len(value) != 3 or not value.isalpha():
            raise serializers.ValidationError("Use a three-letter ISO 4217 code such as USD.")
        return value.upper()


@extend_schema_view(
    list=extend_schema(responses={200: OrganizationSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: OrganizationSerializer, **READ_ERRORS}),
    create=extend_schema(responses={201: OrganizationSerializer, **WRITE_ERRORS}),
    partial_update=extend_schema(responses={200: OrganizationSerializer, **WRITE_ERRORS}),
    update=extend_schema(responses={200: OrganizationSerializer, **WRITE_ERRORS}),
)
class OrganizationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Organizations of the caller. A token sees only its own organization."""

    serializer_class = OrganizationSerializer
    lookup_field = "slug"
    lookup_url_kwarg = "org_slug"
    # The characters of Django's `slug` path converter, as in every other `<org_slug>` route:
    # anything else (a NUL byte, which PostgreSQL refuses in a query) is a 404 from the router.
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    queryset = Organization.objects.all()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Organization.objects.none()
        if isinstance(self.request.auth, TokenAuth):
            return Organization.objects.filter(pk=self.request.auth.token.organization_id)
        return Organization.objects.for_user(self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        if isinstance(self.request.auth, TokenAuth):
            auth = self.request.auth
            context["roles"] = {auth.token.organization_id: auth.role}
        elif self.request.user.is_authenticated:
            context["roles"] = dict(
                Membership.objects.filter(user=self.request.user).values_list(
                    "organization_id", "role"
                )
            )
        return context

    def get_permissions(self):
        if self.action == "create":
            return [permissions.IsAuthenticated(), SessionOnly()]
        return super().get_permissions()

    def perform_create(self, serializer):
        data = serializer.validated_data
        org = membership.create_organization(owner=self.request.user, **data)
        serializer.instance = org
        serializer.context["roles"] = {org.pk: Role.OWNER}

    def perform_update(self, serializer):
        access = api_access(self.request, serializer.instance.slug)
        if access.token is not None and access.token.scope != TokenScope.WRITE:
            raise exceptions.PermissionDenied(access.denial_reason())
        if access.role not in MANAGERS:
            raise exceptions.PermissionDenied(access.denial_reason())
        serializer.save()


# --- Members -----------------------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "email", "name", "role", "created_at"]
        read_only_fields = ["id", "user", "email", "name", "created_at"]
        extra_kwargs = {"role": {"required": True}}

    def validate(self, attrs):
        # A PATCH is partial, which waives `required`; changing a member means a new role.
        if "role" not in attrs:
            raise serializers.ValidationError({"role": ["This field is required."]})
        return attrs


@extend_schema_view(
    list=extend_schema(responses={200: MembershipSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: MembershipSerializer, **READ_ERRORS}),
    partial_update=extend_schema(
        description="Change a member's role. Only owners grant or take away the owner role; "
        "the last owner cannot be demoted (409).",
        responses={
            200: MembershipSerializer,
            409: OpenApiResponse(description="Last owner."),
            **WRITE_ERRORS,
        },
    ),
    destroy=extend_schema(
        description="Remove a member, or leave (your own membership). Their API tokens for "
        "this organization are deleted. The last owner cannot be removed (409).",
        responses={204: None, 409: OpenApiResponse(description="Last owner."), **READ_ERRORS},
    ),
)
class MembershipViewSet(
    OrgScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = Membership.objects.all()
    serializer_class = MembershipSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]
    # Anyone may leave; removing someone else is checked in perform_destroy.
    action_roles = {"destroy": READERS}

    def refine_queryset(self, queryset):
        return queryset.select_related("user")

    def perform_update(self, serializer):
        try:
            membership.change_role(
                self.access.membership, serializer.instance, serializer.validated_data["role"]
            )
        except PermissionError as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except membership.MembershipError as exc:
            raise Conflict(str(exc)) from exc
        serializer.instance.refresh_from_db()

    def perform_destroy(self, instance):
        actor = self.access.membership
        if instance.pk != actor.pk and self.access.role not in MANAGERS:
            raise exceptions.PermissionDenied(self.access.denial_reason())
        try:
            membership.remove_member(actor, instance)
        except PermissionError as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except membership.MembershipError as exc:
            raise Conflict(str(exc)) from exc


# --- Invitations -------------------------------------------------------------------------------


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)
    link = serializers.SerializerMethodField(
        help_text="The single-use link; present only in the response that creates it."
    )

    email_error = serializers.SerializerMethodField(
        help_text="Why the invitation email could not be sent (create response only)."
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "status",
            "created_at",
            "expires_at",
            "link",
            "email_error",
        ]
        read_only_fields = ["id", "status", "created_at", "expires_at", "link", "email_error"]
        extra_kwargs = {"role": {"required": True}}

    def get_link(self, invitation) -> str | None:
        return self.context.get("links", {}).get(invitation.pk)

    def get_email_error(self, invitation) -> str | None:
        return self.context.get("email_errors", {}).get(invitation.pk)

    def validate_email(self, value):
        org = self.context["org"]
        value = value.strip().lower()
        if Membership.objects.for_org(org).filter(user__email=value).exists():
            raise serializers.ValidationError("This person is already a member.")
        return value

    def validate_role(self, value):
        if value == Role.OWNER and self.context["access"].role != Role.OWNER:
            raise serializers.ValidationError("Only owners can invite owners.")
        return value


def invitation_link(request, secret: str) -> str:
    return request.build_absolute_uri(reverse("orgs:accept-invitation", args=[secret]))


@extend_schema_view(
    list=extend_schema(responses={200: InvitationSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: InvitationSerializer, **READ_ERRORS}),
    create=extend_schema(
        description="Invite a person by email. The response carries the link once; it is also "
        "emailed.",
        responses={201: InvitationSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(
        description="Revoke a pending invitation.", responses={204: None, **READ_ERRORS}
    ),
)
class InvitationViewSet(
    OrgScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = Invitation.objects.all()
    serializer_class = InvitationSerializer
    read_roles = MANAGERS

    def perform_create(self, serializer):
        data = serializer.validated_data
        invitation, secret = invitations.create_invitation(
            self.org, data["email"], data["role"], self.request.user
        )
        link = invitation_link(self.request, secret)
        email_error = invitations.send_invitation_email(invitation, link)
        serializer.instance = invitation
        serializer.context["links"] = {invitation.pk: link}
        serializer.context["email_errors"] = {invitation.pk: email_error}

    def perform_destroy(self, instance):
        invitations.revoke_invitation(instance)


# --- Teams -------------------------------------------------------------------------------------


class TeamSerializer(OrgScopedSerializer):
    members = OrgMemberField(many=True, required=False)

    class Meta:
        model = Team
        fields = ["id", "name", "description", "members", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_name(self, value):
        if team_name_taken(self.context["org"], value, self.instance):
            raise serializers.ValidationError(TEAM_NAME_TAKEN)
        return value


@crud_schema(TeamSerializer)
class TeamViewSet(OrgScopedModelViewSet):
    queryset = Team.objects.all()
    serializer_class = TeamSerializer

    def refine_queryset(self, queryset):
        return queryset.prefetch_related("members")


# --- API tokens --------------------------------------------------------------------------------


class ApiTokenSerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(source="masked", read_only=True)
    status = serializers.CharField(read_only=True)
    user = serializers.EmailField(source="user.email", read_only=True)
    expires_in_days = serializers.IntegerField(
        write_only=True,
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Days until the token expires; omit for no expiry.",
    )
    token = serializers.SerializerMethodField(
        help_text="The token itself; present only in the response that creates it."
    )

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "scope",
            "prefix",
            "user",
            "status",
            "created_at",
            "last_used_at",
            "expires_at",
            "expires_in_days",
            "token",
        ]
        read_only_fields = [
            "id",
            "prefix",
            "user",
            "status",
            "created_at",
            "last_used_at",
            "expires_at",
            "token",
        ]

    def get_token(self, token) -> str | None:
        return self.context.get("token_texts", {}).get(token.pk)


@extend_schema_view(
    list=extend_schema(responses={200: ApiTokenSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: ApiTokenSerializer, **READ_ERRORS}),
    create=extend_schema(
        description="Create a token for yourself in this organization. The token text is in "
        "this response only. Session users only: tokens cannot create tokens.",
        responses={201: ApiTokenSerializer, **WRITE_ERRORS},
    ),
    destroy=extend_schema(
        description="Revoke a token: your own, or any token if you are an owner or admin.",
        responses={204: None, **READ_ERRORS},
    ),
)
class ApiTokenViewSet(
    OrgScopedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = ApiToken.objects.all()
    serializer_class = ApiTokenSerializer
    permission_classes = [*OrgScopedViewSet.permission_classes, SessionOnly]
    # Everyone may hold tokens; a token never acts above its creator's role.
    write_roles = READERS

    def refine_queryset(self, queryset):
        return tokens.tokens_visible_to(self.access.membership)

    def perform_create(self, serializer):
        data = serializer.validated_data
        days = data.get("expires_in_days")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        token, text = tokens.issue_token(
            self.org, self.request.user, data["name"], data["scope"], expires_at
        )
        serializer.instance = token
        serializer.context["token_texts"] = {token.pk: text}

    def destroy(self, request, *args, **kwargs):
        tokens.revoke(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
