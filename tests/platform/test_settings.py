from pathlib import Path

from reviews.platform.settings import Settings


def test_settings_defaults_work_on_a_laptop(tmp_path: Path) -> None:
    s = Settings.from_env({"ATTEST_DATA_DIR": str(tmp_path / "d")})
    assert (s.host, s.port, s.base_url) == ("127.0.0.1", 8000, "http://127.0.0.1:8000")
    assert s.database_url is None and s.smtp_url is None
    assert s.outbox_dir == tmp_path / "d" / "outbox"
    # The generated secret is kept, so links stay valid across restarts.
    assert Settings.from_env({"ATTEST_DATA_DIR": str(tmp_path / "d")}).secret_key == s.secret_key
    assert (tmp_path / "d" / "secret_key").stat().st_mode & 0o077 == 0


def test_settings_from_environment(tmp_path: Path) -> None:
    s = Settings.from_env({"ATTEST_DATA_DIR": str(tmp_path), "ATTEST_HOST": "0.0.0.0",  # noqa: S104
                           "ATTEST_PORT": "9000",
                           "ATTEST_BASE_URL": "https://reviews.example/", "ATTEST_SECRET_KEY": "k",
                           "DATABASE_URL": "postgresql://db/attest", "ATTEST_SMTP_URL": "smtp://mail:25"})
    assert (s.port, s.base_url, s.secret_key, s.database_url) == (9000, "https://reviews.example", "k",
                                                                  "postgresql://db/attest")
