"""Officials' texts (news, timeline notes) as safe HTML: a small Markdown subset, then an allowlist sanitiser.

Two independent locks, so a gap in one is caught by the other:
1. markdown-it-py (CommonMark) with raw HTML off and only the rules of the subset enabled: paragraphs,
   emphasis, strong, lists, links, autolinks and line breaks. Headings, images, code, quotes and tables
   stay literal text. A link whose address is not http(s)/mailto stays literal text too.
2. nh3 (ammonia) keeps only those tags and `href` on links with the same schemes, strips everything else
   (with the content of script/style), and sets rel/target on every link.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
TAGS = frozenset({"p", "em", "strong", "ul", "ol", "li", "a", "br"})
# Links open outside the page: inside an embed (an iframe on a municipal site) a link followed in place
# would load another site into the frame. noopener keeps the opened page from reaching back via window.opener;
# nofollow gives link spam no search ranking.
LINK_REL = "nofollow noopener"
LINK_TARGET = "_blank"
# Block rules of CommonMark that are not in the subset; "paragraph" and "list" stay.
_BLOCK_OFF = ["code", "fence", "blockquote", "hr", "heading", "lheading", "html_block", "table"]
_INLINE_OFF = ["backticks", "image", "html_inline", "strikethrough"]


def safe_link(url: str) -> bool:
    """Say whether a link address may appear in officials' texts (absolute http, https or mailto)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme.lower() not in LINK_SCHEMES:
        return False
    if parts.scheme.lower() == "mailto":
        return bool(parts.path) and not any(c.isspace() for c in url)
    return bool(parts.hostname)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True, "typographer": False})
    md.disable([r for r in _BLOCK_OFF + _INLINE_OFF if r in _known_rules(md)])
    # validateLink runs on the normalised address; refusing leaves the Markdown as literal text.
    md.validateLink = safe_link
    return md


def _known_rules(md: MarkdownIt) -> set[str]:
    return {name for names in md.get_all_rules().values() for name in names}


_MARKDOWN = _parser()


def _attribute(tag: str, name: str, value: str) -> str | None:
    """Second check of link addresses (nh3's scheme list lets relative addresses through)."""
    if tag == "a" and name == "href":
        return value if safe_link(value) else None
    return value


_CLEANER = nh3.Cleaner(
    tags=set(TAGS), clean_content_tags={"script", "style"},
    attributes={"*": set(), "a": {"href", "title"}, "ol": {"start"}},
    attribute_filter=_attribute, url_schemes=set(LINK_SCHEMES), link_rel=LINK_REL, strip_comments=True,
    set_tag_attribute_values={"a": {"target": LINK_TARGET}},
)


def render_markdown(source: str | None) -> str:
    """Render an official's Markdown text to sanitised HTML (empty text gives an empty string)."""
    if not source or not source.strip():
        return ""
    return _CLEANER.clean(_MARKDOWN.render(source)).strip()


def sanitise_html(html: str) -> str:
    """Clean HTML with the same allowlist as rendered Markdown (for HTML from elsewhere)."""
    return _CLEANER.clean(html).strip()
