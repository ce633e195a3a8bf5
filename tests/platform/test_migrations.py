from pathlib import Path

import asyncpg
import pytest

from reviews.platform import db


@pytest.mark.slow
async def test_every_migration_applies_to_an_empty_database(pg_admin_uri: str) -> None:
    await db.ensure_database(pg_admin_uri, "t_empty_migrate")
    dsn = db._with_database(pg_admin_uri, "t_empty_migrate")
    conn = await db.connect(dsn)
    try:
        applied = await db.migrate(conn)
        assert applied == [path.name for _, _, path in db.migration_files()]
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        for table in ("merchants", "api_keys", "orders", "order_items", "invitations", "reviews", "review_versions",
                      "review_embeddings", "flags", "suppressions", "jobs", "audit_log", "webhook_receipts",
                      "schema_migrations"):
            assert table in tables
        assert await conn.fetchval("SELECT extname FROM pg_extension WHERE extname = 'vector'") == "vector"
        # A second run applies nothing and changes nothing.
        assert await db.migrate(conn) == []
        assert await db.pending_migrations(conn) == []
    finally:
        await conn.close()
        admin = await asyncpg.connect(pg_admin_uri)
        await admin.execute('DROP DATABASE "t_empty_migrate" WITH (FORCE)')
        await admin.close()


async def test_a_failing_migration_leaves_nothing_behind(dsn: str, tmp_path: Path) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE t_ok (id int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE t_half (id int); SELECT no_such_function();")
    conn = await db.connect(dsn)
    try:
        await conn.execute("DROP TABLE schema_migrations")
        try:
            await db.migrate(conn, tmp_path)
        except asyncpg.PostgresError:
            pass
        else:
            raise AssertionError("the broken migration should fail")
        assert await conn.fetchval("SELECT to_regclass('t_ok') IS NOT NULL")
        assert not await conn.fetchval("SELECT to_regclass('t_half') IS NOT NULL")
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == 1
    finally:
        await conn.close()


def test_migration_files_are_numbered_without_gaps(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("")
    (tmp_path / "0003_c.sql").write_text("")
    try:
        db.migration_files(tmp_path)
    except RuntimeError as exc:
        assert "without gaps" in str(exc)
    else:
        raise AssertionError("a gap should be refused")


@pytest.mark.slow
async def test_profiles_move_out_of_the_embeddings_table_with_their_values(pg_admin_uri: str, tmp_path: Path) -> None:
    """0004 moves each review's background profile to review_profiles: an upgraded database keeps them."""
    for _, _, path in db.migration_files():
        if path.name < "0004":
            (tmp_path / path.name).write_text(path.read_text())
    await db.ensure_database(pg_admin_uri, "t_profiles_migrate")
    conn = await db.connect(db._with_database(pg_admin_uri, "t_profiles_migrate"))
    try:
        await db.migrate(conn, tmp_path)
        await conn.execute(
            """INSERT INTO merchants (id, slug, name) VALUES (1, 'shop', 'Shop');
               INSERT INTO reviews (id, merchant_id, method, rating, state, submitted_at)
               VALUES (1, 1, 'imported', 5, 'published', now()), (2, 1, 'imported', 4, 'pending', now());
               INSERT INTO review_embeddings (review_id, model, dim, text_hash, embedding, submitted_at, bg_mean, bg_sd)
               VALUES (1, 'm', 3, 'h1', '[1,0,0]', now(), 0.5, 0.25),
                      (2, 'm', 3, 'h2', '[0,1,0]', now(), NULL, NULL)""")
        # 0004 first; later migrations follow it.
        assert (await db.migrate(conn))[0] == "0004_review_profiles.sql"
        profiles = [tuple(r) for r in await conn.fetch("SELECT review_id, model, bg_mean, bg_sd FROM review_profiles")]
        assert profiles == [(1, "m", 0.5, 0.25)]
        columns = {r["column_name"] for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'review_embeddings'")}
        assert "bg_mean" not in columns and "bg_sd" not in columns
        await conn.execute("DELETE FROM review_embeddings WHERE review_id = 1")
        assert await conn.fetchval("SELECT count(*) FROM review_profiles") == 0  # they go with their vector
    finally:
        await conn.close()
        admin = await asyncpg.connect(pg_admin_uri)
        await admin.execute('DROP DATABASE "t_profiles_migrate" WITH (FORCE)')
        await admin.close()


@pytest.mark.slow
async def test_vectors_become_half_precision_in_their_rows_and_keep_their_graph(pg_admin_uri: str,
                                                                                 tmp_path: Path) -> None:
    """0028 stores the vectors as halfvec: an upgraded database keeps every vector (to half
    precision), a 512-dimension one moves out of TOAST into its row, and the model's HNSW index is
    rebuilt on the new column, so the candidate search still goes through it."""
    import numpy as np

    from embedding import store

    for _, _, path in db.migration_files():
        if path.name < "0028":
            (tmp_path / path.name).write_text(path.read_text())
    await db.ensure_database(pg_admin_uri, "t_halfvec_migrate")
    conn = await db.connect(db._with_database(pg_admin_uri, "t_halfvec_migrate"))
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((30, 512)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    try:
        await db.migrate(conn, tmp_path)
        await conn.execute("INSERT INTO merchants (id, slug, name) VALUES (1, 'shop', 'Shop')")
        await conn.executemany(
            "INSERT INTO reviews (id, merchant_id, method, rating, state, submitted_at) "
            "VALUES ($1, 1, 'imported', 5, 'published', now() - make_interval(hours => $2))",
            [(i, i) for i in range(1, 31)])
        await conn.executemany(
            """INSERT INTO review_embeddings (review_id, model, dim, text_hash, embedding, submitted_at)
               VALUES ($1, 'x', 512, 'h', $2::real[]::vector, now() - make_interval(hours => $3))""",
            [(i, vectors[i - 1].tolist(), i) for i in range(1, 31)])
        await store.ensure_index(conn, "x", 512)
        toasted = await conn.fetchval(
            "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'review_embeddings'")
        assert toasted > 0  # single precision: over the in-row limit

        assert await db.migrate(conn) == [path.name for _, _, path in db.migration_files() if path.name >= "0028"]

        column_type = await conn.fetchval("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                                          "WHERE attrelid = 'review_embeddings'::regclass AND attname = 'embedding'")
        assert column_type == "halfvec"
        assert await conn.fetchval("SELECT max(pg_column_size(embedding)) FROM review_embeddings") == 4 + 4 + 2 * 512
        stored = await store.vectors(conn, "x", list(range(1, 31)))
        assert len(stored) == 30
        assert max(float(np.abs(stored[i] - vectors[i - 1]).max()) for i in stored) < 1e-3
        assert await conn.fetchval("SELECT count(*) FROM pg_indexes WHERE indexname = $1", store.index_name("x")) == 1
        await conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in await conn.fetch(
            "EXPLAIN " + store.nearest_sql("x", 512), *store.nearest_args(vectors[0], 5, None, 1)))
        assert store.index_name("x") in plan
        found = await store.nearest(conn, "x", vectors[0], 3, exclude=None)
        assert found[0].review_id == 1 and found[0].similarity > 0.999
    finally:
        await conn.close()
        admin = await asyncpg.connect(pg_admin_uri)
        await admin.execute('DROP DATABASE "t_halfvec_migrate" WITH (FORCE)')
        await admin.close()
