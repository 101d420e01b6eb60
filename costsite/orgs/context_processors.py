from costsite.orgs.models import Membership


def organizations(request):
    """The signed-in user's organizations, for the switcher in the page header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def memberships():
        return list(
            Membership.objects.filter(user=user)
            .select_related("organization")
            .order_by("organization__name")
        )

    return {"my_memberships": memberships}
