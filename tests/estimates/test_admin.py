"""Admin scoping of organizations' prices, discounts and saved estimates."""

from costsite.orgs.roles import Role
from estimates.models import Price, ProviderDiscount
from tests.tenancy import new_org_price


def test_finance_sees_only_their_organizations_prices(client, catalog, org_a, org_b, member):
    finance = member(org_a, Role.FINANCE)
    finance.is_staff = True
    finance.save()
    mine, theirs = new_org_price(org_a, None), new_org_price(org_b, None)
    ProviderDiscount.objects.create(organization=org_b, provider="aws", percent="9")
    client.force_login(finance)
    listed = client.get("/admin/estimates/price/").context["cl"].result_list
    assert list(listed) == [mine]
    assert client.get(f"/admin/estimates/price/{theirs.pk}/change/").status_code == 302
    public = Price.objects.public().first()
    assert client.get(f"/admin/estimates/price/{public.pk}/change/").status_code == 302
    assert list(client.get("/admin/estimates/providerdiscount/").context["cl"].result_list) == []
    assert client.get("/admin/estimates/region/").status_code == 403
