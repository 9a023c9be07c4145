"""Fixtures of the integration tests that several files share."""

from __future__ import annotations

import pytest

from .test_mail import Mailbox


@pytest.fixture
def mailbox():
    box = Mailbox()
    box.start()
    yield box
    box.stop()
