"""What the package declares and ships: every dependency earns its place, and an installed wheel
carries what the code reads from beside it (migrations, templates, catalogs, static files)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # over a second a test: `make test` runs it, `make check` does not

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("reviews", "embedding", "mailer", "widgets")
# Needed although no module imports them by name: each line says who uses it.
USED_WITHOUT_IMPORT = {
    "python-multipart": "Starlette parses form bodies with it (request.form())",
    "torch": "sentence-transformers runs on it; declared to pin the CPU build",
}


def _imported_top_level_names() -> set[str]:
    names: set[str] = set()
    for package in LIBRARIES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
    return names


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_runtime_dependency_is_imported_or_says_why() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    by_module = importlib.metadata.packages_distributions()
    imported = {_normal(dist) for module in _imported_top_level_names() for dist in by_module.get(module, [])}
    unused = [
        name for name in (_normal(re.split(r"[<>=\[ ;]", spec)[0]) for spec in declared)
        if name not in imported and name not in USED_WITHOUT_IMPORT
    ]
    assert unused == [], f"declared but imported nowhere: {unused}"


@pytest.mark.slow
def test_the_wheel_carries_migrations_templates_catalogs_and_static_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("attest-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_sql = {n for n in names if n.startswith("migrations/") and n.endswith(".sql")}
    assert shipped_sql == {f"migrations/{p.name}" for p in (ROOT / "migrations").glob("*.sql")}
    for source in ROOT.glob("*/**/*"):
        relative = source.relative_to(ROOT).as_posix()
        if source.is_file() and relative.split("/")[0] in LIBRARIES and (
            "/templates/" in relative or "/static/" in relative or relative.endswith(".po")
        ):
            assert relative in names, f"{relative} is not in the wheel"
    assert not any(n.startswith("tests/") for n in names)
