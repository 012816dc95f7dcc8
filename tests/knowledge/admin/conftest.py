"""Fixtures of the admin tests: an instructor who owns a bank, logged in through the real backend."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from knowledge.models import Bank, Card, Topic

from .. import factories
from .support import PASSWORD


@pytest.fixture
def instructor() -> User:
    return factories.instructor("teacher")


@pytest.fixture
def bank(instructor: User) -> Bank:
    return factories.bank(instructor, slug="my-bank")


@pytest.fixture
def topic() -> Topic:
    return factories.topic("cnn")


@pytest.fixture
def other_bank() -> Bank:
    """A bank owned by another instructor."""
    return factories.bank(factories.instructor("colleague"), slug="their-bank")


@pytest.fixture
def admin_client(instructor: User) -> Client:
    """A test client logged in as the instructor through the real authentication backend."""
    client = Client()
    assert client.login(username=instructor.username, password=PASSWORD)
    return client


@pytest.fixture
def numeric_card(bank: Bank) -> Card:
    return factories.card(bank, kind="numeric", slug="conv-out")


@pytest.fixture
def mixed_cards(bank: Bank) -> list[Card]:
    return [factories.card(bank, kind=kind) for kind in ("concept", "mcq", "numeric")]
