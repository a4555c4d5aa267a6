"""Shared fixtures for the Qt tests."""

import pytest

from medseg_gui.qt import dialogs


@pytest.fixture
def messages(monkeypatch):
    """Record message boxes instead of showing them (they are non-blocking anyway); returns the texts shown."""
    shown: list[str] = []
    monkeypatch.setattr(dialogs, "show_message", lambda parent, title, text, **kw: shown.append(text))
    return shown
