"""The README and the pages under docs/ link to each other and to images by relative paths; a page
moved or renamed must not leave a link that GitHub renders as a 404 or a broken image."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "RELIABILITY.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)|src=\"([^\"]+)\"")


def relative_links(page: Path) -> list[str]:
    targets = [a or b for a, b in LINK.findall(page.read_text())]
    return [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_of_a_page_exists(page):
    links = relative_links(page)
    missing = [t for t in links if not (page.parent / t).exists()]
    assert missing == [], f"{page.name} links to missing files: {missing}"


def test_the_readme_links_every_page_under_docs():
    readme = (ROOT / "README.md").read_text()
    unlinked = [p.name for p in (ROOT / "docs").glob("*.md") if f"docs/{p.name}" not in readme]
    assert unlinked == [], f"pages under docs/ that the README does not link: {unlinked}"
    assert len(readme.splitlines()) <= 160, "the README is the front door; the rest lives in docs/"
