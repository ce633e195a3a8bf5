"""The layout's rules (docs/architecture.md): one writing module per table, no SQL in routes or
commands, and the import contracts of pyproject.toml."""

from __future__ import annotations

import re
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("reviews", "embedding", "mailer", "widgets")
# Each table and the one module that may INSERT, UPDATE or DELETE its rows.
OWNERS = {
    "api_keys": "reviews/merchants/keys.py",
    "appeals": "reviews/collection/appeals.py",
    "clause_vectors": "reviews/insights/store.py",
    "topic_mentions": "reviews/insights/store.py",
    "topic_sets": "reviews/insights/store.py",
    "digest_subscriptions": "reviews/insights/digests.py",
    "topics": "reviews/insights/store.py",
    "console_sessions": "reviews/accounts/sessions.py",
    "memberships": "reviews/accounts/users.py",
    "moderator_scopes": "reviews/accounts/users.py",
    "moderation_decisions": "reviews/moderation/decisions.py",
    "review_claims": "reviews/moderation/claims.py",
    "users": "reviews/accounts/users.py",
    "audit_log": "reviews/platform/audit.py",
    "corpus_stats": "embedding/stats.py",
    "data_exports": "reviews/privacy/exports.py",
    "embedding_models": "embedding/store.py",
    "flags": "reviews/screening/flags.py",
    "invitations": "reviews/invitations/store.py",
    "language_stats": "embedding/stats.py",
    "jobs": "reviews/platform/jobs.py",
    "merchant_daily_ratings": "embedding/stats.py",
    "merchants": "reviews/merchants/store.py",
    "order_events": "reviews/intake/orders.py",
    "order_items": "reviews/intake/orders.py",
    "order_lines": "reviews/intake/orders.py",
    "order_refunds": "reviews/intake/orders.py",
    "orders": "reviews/intake/orders.py",
    "photo_blobs": "reviews/media/blobs.py",
    "photos": "reviews/media/store.py",
    "rate_limits": "reviews/platform/ratelimit.py",
    "review_embeddings": "embedding/store.py",
    "review_profiles": "embedding/store.py",
    "review_replies": "reviews/collection/replies.py",
    "review_bands": "embedding/shingles.py",
    "review_reports": "reviews/collection/reports.py",
    "review_versions": "reviews/collection/store.py",
    "reviews": "reviews/collection/store.py",
    "schema_migrations": "reviews/platform/db.py",
    "suppressions": "reviews/invitations/suppressions.py",
    "term_counted": "embedding/stats.py",
    "term_stats": "embedding/stats.py",
    "webhook_receipts": "reviews/intake/webhooks.py",
    "webhook_deliveries": "reviews/hooks/deliveries.py",
    "webhook_endpoints": "reviews/hooks/endpoints.py",
}
# Routes and commands: they parse, call the owner, shape the answer.
NO_SQL = ("reviews/app.py", "reviews/cli.py", "reviews/worker.py", "reviews/buyer/*.py", "reviews/intake/api.py",
          "reviews/intake/shopify.py", "reviews/intake/woocommerce.py", "reviews/privacy/api.py", "widgets/routes.py",
          "reviews/console/**/*.py",
          "reviews/media/serving.py")
_WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z_]+)\b")
_SQL = re.compile(r"\b(?:SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b")


def _python_files() -> list[Path]:
    return [p for source in SOURCES for p in sorted((ROOT / source).rglob("*.py"))]


def _tables() -> set[str]:
    found = {"schema_migrations"}  # the migrations runner's own
    for path in sorted((ROOT / "migrations").glob("*.sql")):  # in order: a later one may drop a table
        sql = path.read_text()
        found |= set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)", sql))
        found -= set(re.findall(r"DROP TABLE (?:IF EXISTS )?([a-z_]+)", sql))
    return found


def test_each_table_has_one_writing_module() -> None:
    tables = _tables()
    assert set(OWNERS) == tables, "every table needs its owner here (and in docs/architecture.md)"
    writers: dict[str, set[str]] = {}
    for path in _python_files():
        for table in _WRITE.findall(path.read_text()):
            if table in tables:
                writers.setdefault(table, set()).add(str(path.relative_to(ROOT)))
    assert writers == {table: {owner} for table, owner in OWNERS.items()}


def test_routes_and_commands_hold_no_sql() -> None:
    for pattern in NO_SQL:
        for path in ROOT.glob(pattern):
            assert not _SQL.search(path.read_text()), f"{path.relative_to(ROOT)} holds SQL"


def test_import_contracts_hold() -> None:
    """The layers and forbidden imports of pyproject.toml (also run by `make lint`)."""
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0
