"""The teacher's weights: live, frozen, EMA and synchronized every N steps, on a one-weight model."""

import pytest
import torch

from skillspark.train.teacher import TeacherWeights


def _model(value: float) -> torch.nn.Linear:
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(value)
    return model


def _teacher_weight(teacher, model) -> float:
    with teacher.applied(model):
        return model.weight.item()


def _step(model, value: float) -> None:
    with torch.no_grad():
        model.weight.fill_(value)


def test_live_teacher_is_the_current_policy():
    model = _model(1.0)
    teacher = TeacherWeights(model, "live")
    _step(model, 2.0)
    teacher.after_step(model, 1)
    assert _teacher_weight(teacher, model) == 2.0


def test_frozen_teacher_keeps_the_start_and_the_student_is_restored_after_the_teacher_forward():
    model = _model(1.0)
    teacher = TeacherWeights(model, "frozen")
    _step(model, 2.0)
    teacher.after_step(model, 1)
    assert _teacher_weight(teacher, model) == 1.0
    assert model.weight.item() == 2.0


def test_ema_teacher_follows_by_the_decay():
    model = _model(1.0)
    teacher = TeacherWeights(model, "ema", ema_decay=0.9)
    _step(model, 2.0)
    teacher.after_step(model, 1)  # 0.9 * 1 + 0.1 * 2
    assert _teacher_weight(teacher, model) == pytest.approx(1.1)
    _step(model, 3.0)
    teacher.after_step(model, 2)  # 0.9 * 1.1 + 0.1 * 3
    assert _teacher_weight(teacher, model) == pytest.approx(1.29)


def test_sync_every_two_steps_refreshes_the_teacher_then_freezes_it():
    model = _model(1.0)
    teacher = TeacherWeights(model, "live", sync_every=2)
    seen = []
    for steps_done, value in enumerate([2.0, 3.0, 4.0, 5.0], start=1):
        _step(model, value)
        teacher.after_step(model, steps_done)
        seen.append(_teacher_weight(teacher, model))
    assert seen == [1.0, 3.0, 3.0, 5.0]


def test_the_teacher_state_round_trips_for_resume():
    model = _model(1.0)
    teacher = TeacherWeights(model, "frozen")
    other = TeacherWeights(_model(7.0), "frozen")
    other.load_state_dict(teacher.state_dict())
    assert _teacher_weight(other, _model(7.0)) == 1.0
