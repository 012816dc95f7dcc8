"""Import and export of question banks: fixture YAML, CSV, Anki .apkg and Moodle XML.

Every import goes through the same steps: ``upload_read_cards`` (size, compression and encoding
checks, then the format's parser, bounded in depth and size) turns a file into cards in fixture
form, and ``cards_import_items`` validates everything, then writes everything in one transaction,
or nothing.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from knowledge.services import LoadReport

from .anki import cards_to_apkg
from .fixture import cards_to_fixture_yaml
from .importing import BankImportError, cards_import_items
from .moodle import cards_to_moodle_xml
from .uploads import ImportFormat, UploadRejected, upload_name, upload_read_cards
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
    "upload_read_cards",
]


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
    name = upload_name(name)
    items, errors = upload_read_cards(data, fmt=fmt, name=name, bank=bank, topic=topic)
    if errors and not items:
        raise BankImportError(errors)
    return cards_import_items(items, user=user, name=name, errors=errors)
