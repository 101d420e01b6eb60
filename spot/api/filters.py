"""List filters by a related row (`?fleet=<id>`, `?team=<id>`), limited to the URL's
organization: an id of another organization's row is the same 400 as an id no row has, so a
filter never tells whether another organization's row exists."""

import django_filters


class OrgRowFilter(django_filters.ModelChoiceFilter):
    """A ModelChoiceFilter over a tenant model, narrowed to the viewset's organization."""

    def get_queryset(self, request):
        return super().get_queryset(request).for_org(request.parser_context["view"].org)
