"""Paginated lists on pages: the requested page and the query string its pager links keep."""

from django.core.paginator import Page, Paginator

PAGE_SIZE = 50


def paged(request, rows, per_page: int = PAGE_SIZE) -> tuple[Page, str]:
    """The page of `rows` that `?page=` asks for (the first or the last for a bad number), and
    the query string of the other parameters, for "newer/older" links that keep the filters."""
    page = Paginator(rows, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
