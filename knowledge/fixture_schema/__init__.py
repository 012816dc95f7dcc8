"""Read and validate question-bank cards in fixture form without touching the database.

The format is described in ``fixtures/README.md``. ``read_bank`` parses every file of a folder
(YAML bounded in depth and size before any object is built, see ``reading``) and
``validate_bank_data`` returns *every* problem found (file, card, field, message), so an author
fixes a whole file in one pass. ``validate_cards`` checks cards alone against given banks, topics
and source sections; importers call it with what the database holds. ``python -m
knowledge.fixture_schema fixtures`` prints the problems.

The modules: ``checking`` (errors, field checks, values a database can store), ``limits``
(column sizes and YAML bounds), ``reading`` (bounded YAML, the folder), ``taxonomy`` (banks,
topics, sources), ``cards`` and ``templates`` (a numeric card's template, version and
constraints against the compute engine), ``validation`` (the whole bank). Nothing here imports
Django at import time, so authors can run it before the project is set up.
"""

from .cards import KIND_FIELDS, normalize_card, validate_cards
from .checking import CARD_KINDS, BankData, FixtureError
from .limits import FieldLimits, YamlLimits, field_limits
from .reading import (
    YAML_DUMPER,
    YAML_LOADER,
    YamlTooComplex,
    read_bank,
    yaml_dump,
    yaml_load_bounded,
)
from .validation import main, validate_bank_data, validate_fixtures

__all__ = [
    "CARD_KINDS",
    "KIND_FIELDS",
    "YAML_DUMPER",
    "YAML_LOADER",
    "BankData",
    "FieldLimits",
    "FixtureError",
    "YamlLimits",
    "YamlTooComplex",
    "field_limits",
    "main",
    "normalize_card",
    "read_bank",
    "validate_bank_data",
    "validate_cards",
    "validate_fixtures",
    "yaml_dump",
    "yaml_load_bounded",
]
