"""docs/architecture.md is the map a newcomer reads first: every package of the code is on it, and every
package or module it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
LIBRARIES = ("reviews", "embedding", "mailer", "widgets")


def _packages() -> list[str]:
    found = []
    for library in LIBRARIES:
        for init in sorted((ROOT / library).rglob("__init__.py")):
            found.append(init.parent.relative_to(ROOT).as_posix())
    return found


def _exists(dotted_or_path: str) -> bool:
    parts = dotted_or_path.strip("/").removesuffix(".py").replace(".", "/")
    return (ROOT / parts).is_dir() or (ROOT / f"{parts}.py").is_file()


def test_every_package_is_on_the_map() -> None:
    missing = [
        package for package in _packages()
        if f"{package}/" not in DOC and package.replace("/", ".") not in DOC
    ]
    assert missing == [], f"docs/architecture.md does not mention: {missing}"


def test_every_package_and_module_the_map_names_exists() -> None:
    named = set(re.findall(r"`((?:reviews|embedding|mailer|widgets)(?:[./][a-z_]+)+(?:\.py)?/?)`", DOC))
    named |= set(re.findall(r"\b((?:reviews|embedding|mailer|widgets)/[a-z_/]+(?:\.py)?)", DOC))
    assert named, "the map names no package: the patterns above no longer match its style"
    gone = sorted(name for name in named if not _exists(name))
    assert gone == [], f"docs/architecture.md names what does not exist: {gone}"
