"""The conversation diagrams are drawn from the step tables; a committed one that no longer
matches the code fails here (run `feedbackbot diagrams` and commit the result)."""

from __future__ import annotations

from pathlib import Path

from handlers.diagrams import current

ROOT = Path(__file__).resolve().parent.parent


def test_every_committed_diagram_is_the_one_the_steps_draw() -> None:
    drawn = current()
    for path, text in drawn.items():
        assert path.is_file(), f"{path} is missing: run feedbackbot diagrams"
        assert path.read_text(encoding="utf-8") == text, f"{path} is out of date"
    assert set(ROOT.glob("handlers/**/*.mmd")) == set(drawn), "a diagram of no flow"


def test_the_drawing_follows_the_steps_through_guards_and_helpers() -> None:
    officer = next(text for path, text in current().items() if path.name == "officer.mmd")
    assert "[*] --> card: /case" in officer
    assert "card --> transfer\n" in officer, "a step reached through a table of actions"
    assert "confirm --> list" in officer, "a step reached through a guarded helper"
    assert "number --> confirm" in officer and "number --> explain" not in officer
    assert "measure --> effective" in officer, "a discipline proposal names no new post"
    rating = next(text for path, text in current().items() if path.name == "rating.mmd")
    assert "timeliness --> apology" in rating, "the next unanswered question, in table order"
    assert "offer --> [*]: report.category" in rating, "leaving for another flow"
