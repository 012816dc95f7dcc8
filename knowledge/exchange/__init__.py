"""Import and export of question banks: fixture YAML, CSV, Anki .apkg and Moodle XML.

Every import goes through the same three steps: ``read_upload_text`` (size, compression and
encoding checks), a converter to cards in fixture form, and ``cards_import_items`` (validate
everything, then write everything in one transaction, or nothing).
"""

from __future__ import annotations

from typing import Literal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from knowledge.fixture_schema import FixtureError
from knowledge.services import LoadReport

from .anki import cards_to_apkg
from .csv_format import csv_to_items
from .fixture import cards_to_fixture_yaml, fixture_yaml_to_items
from .importing import BankImportError, cards_import_items
from .moodle import cards_to_moodle_xml, moodle_xml_to_items
from .uploads import UploadRejected, read_upload_text
from .variants import numeric_variants

__all__ = [
    "BankImportError",
    "ImportFormat",
    "LoadReport",
    "UploadRejected",
    "cards_import_file",
    "cards_to_apkg",
    "cards_to_fixture_yaml",
    "cards_to_moodle_xml",
    "numeric_variants",
]

ImportFormat = Literal["fixture", "csv", "moodle"]


def cards_import_file(
    data: bytes,
    *,
    fmt: ImportFormat,
    user: AbstractBaseUser | AnonymousUser,
    name: str = "upload",
    bank: str = "",
    topic: str = "",
) -> LoadReport:
    """Import an uploaded file; raise UploadRejected or BankImportError and write nothing on error.

    ``bank`` and ``topic`` are where Moodle questions go (Moodle has no such fields of ours).
    """
    text = read_upload_text(data, name=name)
    errors: list[FixtureError]
    if fmt == "fixture":
        items, errors = fixture_yaml_to_items(text, name=name)
    elif fmt == "csv":
        items, errors = csv_to_items(text, name=name)
    elif fmt == "moodle":
        if not bank or not topic:
            raise BankImportError(
                [FixtureError(name, "", "", "choose the bank and topic the Moodle questions go to")]
            )
        items, errors = moodle_xml_to_items(text, name=name, bank=bank, topic=topic)
    else:
        raise BankImportError([FixtureError(name, "", "format", f"unknown import format {fmt!r}")])
    if errors and not items:
        raise BankImportError(errors)
    return cards_import_items(items, user=user, name=name, errors=errors)
