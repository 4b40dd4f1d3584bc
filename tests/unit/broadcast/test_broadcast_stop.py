"""Stopping a running broadcast (``/announce stop``): the fold sends nothing more for it,
across a restart (a fresh fold of the same log), and the report counts what was never sent;
the BROADCAST_* settings."""

from __future__ import annotations

import pytest
from test_broadcast_book import (
    AUTHOR,
    _env,
    attempted,
    confirmed,
    deferred,
    recorded,
    requested,
    started,
)

from actors.broadcast import buttons, policy, texts
from actors.broadcast.announce_args import is_stop
from actors.broadcast.book import BroadcastBook, Counts
from events.admin import AnnouncementStopRequested
from events.ids import new_id
from infra.settings import ConfigError, load_settings


def stop(by: int = AUTHOR, aid: str | None = None) -> AnnouncementStopRequested:
    return AnnouncementStopRequested(**_env(), admin_user_id=by, announcement_id=aid)


def _mid_broadcast(aid: str) -> list[object]:
    return [
        requested(aid),
        confirmed(aid),
        *started(aid, [1, 2, 3, 4, 5, 6]),
        attempted(aid, 1),
        recorded(aid, 1),
        attempted(aid, 2),
        recorded(aid, 2, "blocked"),
        attempted(aid, 3),
        deferred(aid, 3),
        attempted(aid, 4),
    ]


def test_a_stop_ends_sending_and_counts_the_never_sent_after_a_restart_too() -> None:
    """After the author's stop nobody more is sent to (the deferred and never-tried ones
    are not sent), the send under way still gets its outcome, then the broadcast is
    complete with 1 sent, 1 blocked, 1 failed, 3 not sent; a fresh fold of the same log
    (a restarted broadcaster) decides the same."""
    aid = new_id()
    log = [*_mid_broadcast(aid), stop()]
    book = BroadcastBook()
    book.apply_all(log)
    ann = book.announcements[aid]
    assert ann.stopped
    assert ann.to_send() == []
    assert not ann.complete()  # recipient 4's send is under way
    log.append(recorded(aid, 4, "failed"))
    book.apply(log[-1])
    assert ann.complete()
    assert ann.counts() == Counts(sent=1, failed=1, blocked=1, not_sent=3)
    again = BroadcastBook()
    again.apply_all(log)
    restarted = again.announcements[aid]
    assert (restarted.to_send(), restarted.complete()) == ([], True)
    assert restarted.counts() == ann.counts()
    assert book.runnable() == [ann]  # still to be finished (the report), never sent to


def test_only_the_author_stops_and_only_running_announcements() -> None:
    """Another admin's stop changes nothing; a stop naming another announcement neither; a
    stop does not touch an announcement confirmed after it, nor a finished one."""
    aid, later = new_id(), new_id()
    book = BroadcastBook()
    book.apply_all([*_mid_broadcast(aid), stop(by=AUTHOR + 1), stop(aid=new_id())])
    assert not book.announcements[aid].stopped
    assert book.announcements[aid].to_send() == [3, 5, 6]
    book.apply_all([stop(aid=aid), requested(later), confirmed(later)])
    assert book.announcements[aid].stopped
    assert not book.announcements[later].stopped


def test_a_stop_before_the_start_completes_with_nobody_listed() -> None:
    """Stopped between Send and the start: nothing is listed or sent, it completes at once."""
    aid = new_id()
    book = BroadcastBook()
    book.apply_all([requested(aid), confirmed(aid), stop()])
    ann = book.announcements[aid]
    assert ann.complete()
    assert ann.counts() == Counts()


def test_the_stopped_report_names_every_count_in_both_languages() -> None:
    """The owner's report says stopped, with sent, failed, blocked and not-sent counts."""
    counts = Counts(sent=5, failed=2, blocked=1, not_sent=12)
    english = texts.stopped_report("en", counts, 20)
    assert english.startswith("Broadcast stopped")
    for figure in ("sent 5", "failed 2", "blocked 1", "not sent 12"):
        assert figure in english
    russian = texts.stopped_report("ru", counts, 20)
    assert all(str(n) in russian for n in (5, 2, 1, 12, 20))
    assert russian != english


@pytest.mark.parametrize(
    ("text", "expected"),
    [("/announce stop", True), ("/announce@bot  STOP ", True), ("/announce stop now", False),
     ("/announce stopping soon", False), ("/announce to:1 stop", False)],
)  # fmt: skip
def test_announce_stop_is_recognised_exactly(text: str, expected: bool) -> None:
    """Only ``/announce stop`` (any case, optional @bot) stops; a text about stopping is an
    announcement."""
    assert is_stop(text) is expected


def test_broadcast_settings_default_to_a_margin_under_telegrams_limit() -> None:
    """Unset: 25 sends a second, 4 in flight, progress every 30 s; set: those values;
    above Telegram's 30/s, zero or garbage: start-up stops naming the setting."""
    default = load_settings({})
    assert (
        (
            default.broadcast_sends_per_second,
            default.broadcast_in_flight,
            default.broadcast_progress_every,
        )
        == (policy.SENDS_PER_SECOND, policy.IN_FLIGHT, policy.PROGRESS_EVERY_S)
        == (25, 4, 30.0)
    )
    env = {
        "BROADCAST_SENDS_PER_SECOND": "20",
        "BROADCAST_IN_FLIGHT": "2",
        "BROADCAST_PROGRESS_EVERY": "10",
    }
    chosen = load_settings(env)
    assert (chosen.broadcast_sends_per_second, chosen.broadcast_in_flight) == (20, 2)
    assert chosen.broadcast_progress_every == 10.0
    refused = [
        ("BROADCAST_SENDS_PER_SECOND", "31"),
        ("BROADCAST_SENDS_PER_SECOND", "0"),
        ("BROADCAST_IN_FLIGHT", "0"),
        ("BROADCAST_PROGRESS_EVERY", "soon"),
    ]
    for name, raw in refused:
        with pytest.raises(ConfigError, match=name):
            load_settings({name: raw})


def test_the_stop_button_data_round_trips_and_fits_telegrams_limit() -> None:
    """The Stop button's callback data names the action, the author and the announcement,
    fits Telegram's 64 bytes for any user id (they fit 52 bits), and is read back as a stop
    press."""
    aid = new_id()
    data = buttons.callback_data("stop", 2**52 - 1, aid)
    assert len(data.encode()) <= 64
    assert buttons.parse_press(data) == buttons.Press("stop", 2**52 - 1, aid)
    assert buttons.parse_press(data.replace("stop", "halt")) is None
