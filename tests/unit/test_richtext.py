"""The renderer of officials' texts: the Markdown subset comes through, nothing that could run does."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from mapsvc.layers.richtext import render_markdown, safe_link, sanitise_html

LINK = 'target="_blank" rel="nofollow noopener"'

# (Markdown an official typed, HTML that must come out)
KEPT = [
    ("Hallo *wereld*", "<p>Hallo <em>wereld</em></p>"),
    ("**vet** en __ook vet__", "<p><strong>vet</strong> en <strong>ook vet</strong></p>"),
    ("regel 1\nregel 2", "<p>regel 1<br>\nregel 2</p>"),
    ("alinea 1\n\nalinea 2", "<p>alinea 1</p>\n<p>alinea 2</p>"),
    ("- een\n- twee", "<ul>\n<li>een</li>\n<li>twee</li>\n</ul>"),
    ("1. een\n2. twee", "<ol>\n<li>een</li>\n<li>twee</li>\n</ol>"),
    ("[verslag](https://www.gemeente.be/verslag.pdf)",
     f'<p><a href="https://www.gemeente.be/verslag.pdf" {LINK}>verslag</a></p>'),
    ("[mail ons](mailto:info@gemeente.be)", f'<p><a href="mailto:info@gemeente.be" {LINK}>mail ons</a></p>'),
    ("<https://www.gemeente.be>", f'<p><a href="https://www.gemeente.be" {LINK}>https://www.gemeente.be</a></p>'),
    ("**[vet](https://a.be) en *[schuin](http://b.be)***",
     f'<p><strong><a href="https://a.be" {LINK}>vet</a> en '
     f'<em><a href="http://b.be" {LINK}>schuin</a></em></strong></p>'),
    ("Tom &amp; Jerry &lt;3", "<p>Tom &amp; Jerry &lt;3</p>"),
    ("[a](https://a.be/?x=1&y=2)", f'<p><a href="https://a.be/?x=1&amp;y=2" {LINK}>a</a></p>'),
]

# (payload, text that must not appear in the output as markup)
ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="https://a.be" onclick="alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    "<svg onload=alert(1)>",
    "<style>body{display:none}</style>",
    "<!-- <script>alert(1)</script> -->",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](file:///etc/passwd)",
    "[x](//evil.example/x)",
    "[x](/relative/path)",
    "<javascript:alert(1)>",
    "![img](https://evil.example/pixel.png)",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '[x](https://a.be "title" onmouseover="alert(1)")',
    '[x](https://a.be" onmouseover="alert(1))',
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "*<img src=x onerror=alert(1)>*",
    "- <script>alert(1)</script>\n- **<b onmouseover=alert(1)>x</b>**",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
    "```\n<script>alert(1)</script>\n```",
    "<div style='background:url(javascript:alert(1))'>x</div>",
]

class Markup(HTMLParser):
    """The elements and attributes a browser would build from the HTML (text stays text)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str | None]] = []
        self.comments: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.extend((tag, name, value) for name, value in attrs)

    def handle_comment(self, data):
        self.comments.append(data)


def allowed_markup(html: str) -> bool:
    """Only the subset's tags, only href/title/target/rel/start attributes, only http(s)/mailto links."""
    found = Markup(html)
    if not found.tags <= {"p", "em", "strong", "ul", "ol", "li", "a", "br"} or found.comments:
        return False
    for tag, name, value in found.attributes:
        if name not in {"href", "title", "target", "rel", "start"}:
            return False
        if name == "href" and not safe_link(value or ""):
            return False
        if name == "rel" and value != "nofollow noopener":
            return False
    return True


@pytest.mark.parametrize(("source", "expected"), KEPT)
def test_the_subset_renders(source, expected):
    assert render_markdown(source) == expected


@pytest.mark.parametrize("payload", ATTACKS)
def test_attacks_come_out_as_harmless_text(payload):
    html = render_markdown(payload)
    assert allowed_markup(html), html
    assert "<script" not in html.lower() and "<img" not in html.lower()


@pytest.mark.parametrize("payload", ATTACKS)
def test_the_sanitiser_alone_also_holds(payload):
    """The second lock: raw HTML handed straight to the sanitiser (as if the Markdown step let it through)."""
    html = sanitise_html(payload)
    assert allowed_markup(html), html
    assert "<script" not in html.lower() and "alert(1)</script>" not in html


def test_script_text_is_shown_not_run():
    assert render_markdown("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_refused_links_stay_readable_text():
    assert render_markdown("[klik](javascript:alert(1))") == "<p>[klik](javascript:alert(1))</p>"


def test_headings_images_and_code_are_not_in_the_subset():
    assert render_markdown("# Kop") == "<p># Kop</p>"
    assert render_markdown("`code`") == "<p>`code`</p>"
    assert "<img" not in render_markdown("![alt](https://a.be/x.png)")


@pytest.mark.parametrize("empty", [None, "", "   \n  "])
def test_empty_text_renders_nothing(empty):
    assert render_markdown(empty) == ""


@pytest.mark.parametrize(("url", "ok"), [
    ("https://www.gemeente.be/x", True), ("http://a.be", True), ("mailto:info@a.be", True),
    ("javascript:alert(1)", False), ("data:text/html,x", False), ("/relative", False), ("//a.be", False),
    ("https://", False), ("mailto:", False), ("ftp://a.be", False), ("https://[::1", False),
])
def test_safe_link(url, ok):
    assert safe_link(url) is ok
