"""Customer HTML, made safe to show: sanitized with nh3, plus a plain-text rendering."""

from __future__ import annotations

import html as html_lib
import re

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del", "div",
    "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "ol", "p",
    "pre", "q", "s", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"align", "dir", "lang", "title"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "valign", "width"},
    "th": {"colspan", "rowspan", "valign", "width"},
    "table": {"width", "cellpadding", "cellspacing", "border"},
    "font": {"color", "size"},
}
# No style attribute at all: CSS can exfiltrate (url()) and overlay the agent's UI.
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
_BLOCK = re.compile(r"<\s*(br|/p|/div|/tr|/h[1-6]|/li|/blockquote|hr)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_DROP = re.compile(r"<(script|style|head|title)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


def sanitize_html(html: str, *, inline_ids: set[str]) -> str:
    """Safe HTML. `cid:` images survive only when the mail carries that inline part."""

    def keep_url(element: str, attribute: str, value: str) -> str | None:
        if value.lower().startswith("cid:"):
            return value if element == "img" and value[4:].strip("<>") in inline_ids else None
        return value

    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        # Dropped with everything inside them, not just unwrapped.
        clean_content_tags={"script", "style", "title", "head", "template", "noscript", "svg", "math"},
        attribute_filter=lambda element, attribute, value: (
            keep_url(element, attribute, value) if attribute in ("src", "href") else value
        ),
    )
    return cleaned


def html_to_text(html: str) -> str:
    text = _DROP.sub("", html)
    text = _BLOCK.sub("\n", text)
    text = html_lib.unescape(_TAG.sub("", text))
    text = "\n".join(line.rstrip() for line in text.replace("\r", "").splitlines())
    return _BLANK_LINES.sub("\n\n", text).strip()
