"""The run state machine, pair by pair."""

from __future__ import annotations

import itertools

import pytest

from sparkjobs import errors, runs
from sparkjobs.runs import ACTIVE, STOPPABLE, TERMINAL, RunState

S = RunState
ALLOWED = {
    (S.QUEUED, S.STARTING),
    (S.QUEUED, S.STOPPED),
    (S.QUEUED, S.FAILED),
    (S.QUEUED, S.LOST),
    (S.STARTING, S.RUNNING),
    (S.STARTING, S.SUCCEEDED),
    (S.STARTING, S.FAILED),
    (S.STARTING, S.STOPPING),
    (S.STARTING, S.TIMED_OUT),
    (S.STARTING, S.LOST),
    (S.RUNNING, S.SUCCEEDED),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.STOPPING),
    (S.RUNNING, S.TIMED_OUT),
    (S.RUNNING, S.LOST),
    (S.STOPPING, S.STOPPED),
    (S.STOPPING, S.TIMED_OUT),
    (S.STOPPING, S.LOST),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_every_pair_is_allowed_exactly_when_the_table_says(current: S, target: S) -> None:
    if (current, target) in ALLOWED:
        runs.check_transition(current, target)
    else:
        with pytest.raises(errors.InvalidTransition, match=f"from {current} to {target}"):
            runs.check_transition(current, target)


def test_groups_partition_the_states() -> None:
    assert set(S) == ACTIVE | TERMINAL
    assert not ACTIVE & TERMINAL
    assert STOPPABLE <= ACTIVE
    assert {S.SUCCEEDED, S.FAILED, S.STOPPED, S.TIMED_OUT, S.LOST} == TERMINAL


def test_terminal_states_never_change() -> None:
    for state in TERMINAL:
        assert runs.TRANSITIONS[state] == frozenset()
