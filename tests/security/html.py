"""Reading rendered pages for what the Content-Security-Policy forbids, and for CSRF tokens."""

import re
from html.parser import HTMLParser

DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


class _Scanner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.violations = []
        self.post_forms = 0
        self.post_forms_with_token = 0
        self._in_post_form = False
        self._form_has_token = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attrs.items())}>"
        if "style" in attrs:
            self.violations.append(f"inline style attribute: {where}")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.violations.append(f"inline event handler: {where}")
            if (value or "").strip().lower().startswith("javascript:"):
                self.violations.append(f"javascript: URL: {where}")
        if tag == "style":
            self.violations.append("inline <style> element")
        data_block = (attrs.get("type") or "").lower() in DATA_SCRIPT_TYPES
        if tag == "script" and not attrs.get("src") and not data_block:
            self.violations.append(f"inline script: {where}")
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self.post_forms += 1
            self._in_post_form, self._form_has_token = True, False
        if tag == "input" and self._in_post_form and attrs.get("name") == "csrfmiddlewaretoken":
            self._form_has_token = bool(attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "form" and self._in_post_form:
            self.post_forms_with_token += self._form_has_token
            self._in_post_form = False


def scan(html: str) -> _Scanner:
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner


# The same rules for template sources, which may hold markup a test's data does not render.
TEMPLATE_RULES = {
    "inline style attribute": re.compile(r"\sstyle\s*="),
    "inline event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "inline <style> element": re.compile(r"<style", re.IGNORECASE),
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*application/json)[^>]*>"),
}
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.DOTALL | re.IGNORECASE)
