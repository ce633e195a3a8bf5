from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from reviews.invitations.policy import apply_send_window


def test_send_window_moves_into_local_daytime() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    night = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    moved = apply_send_window(night, "09:00-20:00", berlin)
    assert moved.astimezone(berlin).isoformat() == "2026-03-03T09:00:00+01:00"
    morning = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 06:00 in Berlin
    assert apply_send_window(morning, "09:00-20:00", berlin).astimezone(berlin).hour == 9
    noon = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert apply_send_window(noon, "09:00-20:00", berlin) == noon
    assert apply_send_window(night, "off", berlin) == night
