from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infra.kafka.contiguous_acks import ContiguousAcks


@st.composite
def deliveries_and_acks(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Increasing offsets with gaps (compaction, markers), a random subset acked in any order."""
    steps = draw(st.lists(st.integers(1, 3), min_size=1, max_size=60))
    start = draw(st.integers(0, 1000))
    offsets = [start + sum(steps[: i + 1]) - steps[0] for i in range(len(steps))]
    acked = draw(st.permutations(offsets))
    cut = draw(st.integers(0, len(acked)))
    return offsets, list(acked[:cut])


@given(deliveries_and_acks())
def test_commit_point_never_passes_a_record_in_flight_and_never_lags_a_finished_prefix(
    case: tuple[list[int], list[int]],
) -> None:
    """At every step: every offset below the commit point is acked, the first delivered and
    unacked offset is the commit point itself, and the point never moves back."""
    offsets, acks = case
    tracker: ContiguousAcks[str] = ContiguousAcks()
    events = [("d", o) for o in offsets]
    # interleave: an ack only after its delivery
    for ack in acks:
        at = events.index(("d", ack)) + 1
        events.insert(at + len(events[at:]) // 2, ("a", ack))
    done: set[int] = set()
    delivered: list[int] = []
    previous = -1
    for kind, offset in events:
        if kind == "d":
            tracker.delivered("p", offset)
            delivered.append(offset)
        else:
            assert tracker.acked("p", offset)
            done.add(offset)
        point = tracker.commit_point("p")
        assert point is not None
        pending = [o for o in delivered if o not in done]
        assert point == (pending[0] if pending else delivered[-1] + 1)
        assert all(o in done for o in delivered if o < point)
        assert point >= previous
        previous = point


def test_faust_606_case_a_head_in_flight_holds_the_commit() -> None:
    """Offset 10 in flight, 11 and 12 acked: the commit stays at 10 (faust-streaming would
    commit 13 and lose 10 on a crash)."""
    tracker: ContiguousAcks[str] = ContiguousAcks()
    for offset in (10, 11, 12):
        tracker.delivered("p", offset)
    tracker.acked("p", 11)
    tracker.acked("p", 12)
    assert tracker.commit_point("p") == 10
    tracker.acked("p", 10)
    assert tracker.commit_point("p") == 13


def test_repositioning_forgets_what_was_in_flight() -> None:
    """A seek back (a new assignment) redelivers: stale acks are ignored, nothing is skipped."""
    tracker: ContiguousAcks[str] = ContiguousAcks()
    for offset in (5, 6, 7):
        tracker.delivered("p", offset)
    tracker.delivered("p", 5)
    assert not tracker.acked("p", 7)
    assert tracker.commit_point("p") == 5
    tracker.forget(["p"])
    assert tracker.commit_point("p") is None
    assert not tracker.acked("p", 5)


@given(deliveries_and_acks())
def test_due_commits_are_the_moved_commit_points_only(case: tuple[list[int], list[int]]) -> None:
    """What is due is each partition's commit point when it moved past the last commit, and
    nothing once that was committed; the in-flight total counts the unacked deliveries."""
    offsets, acks = case
    tracker: ContiguousAcks[str] = ContiguousAcks()
    for offset in offsets:
        tracker.delivered("p", offset)
    tracker.delivered("q", 5)
    for offset in acks:
        tracker.acked("p", offset)
    assert tracker.total_in_flight() == len(offsets) - len(acks) + 1
    due = tracker.due({"q": 5})
    assert due == {"p": tracker.commit_point("p")}
    assert tracker.due({"p": due["p"], "q": 5}) == {}
