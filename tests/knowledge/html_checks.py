"""What "sanitized HTML" means in the tests: only allowed tags, no event handlers, no scripts."""

from __future__ import annotations

from html.parser import HTMLParser

from knowledge.rendering import ALLOWED_TAGS

# The renderer's own wrappers for math, and the wrappers exporters put around rendered text.
WRAPPERS = {"span", "div", "b", "ol", "ul", "li", "p", "hr"}
SAFE_SCHEMES = ("http:", "https:", "mailto:")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS | WRAPPERS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on <{tag}>")
            if name not in {"href", "title", "align", "class", "lang", "rel", "type", "id"}:
                self.problems.append(f"attribute {name} on <{tag}>")
            scheme = value.split("/")[0] if name == "href" and value else ""
            if ":" in scheme and not scheme.lower().startswith(SAFE_SCHEMES):
                self.problems.append(f"link to {value!r}")


def html_problems(markup: str) -> list[str]:
    """Return what makes ``markup`` unsafe to show (empty when it is sanitized)."""
    collector = _Collector()
    collector.feed(markup)
    collector.close()
    return collector.problems
