"""Writes of the question bank. The admin, the loader, importers and the API all go through these.

* :mod:`.cards`: create, update, publish, unpublish, archive, delete a card; move it to another
  template version; its snapshot, revisions and immutable versions.
* :mod:`.importing`: import cards given in fixture form (every file format, the demo bank).
* :mod:`.loading`: apply ``fixtures/`` without overwriting edits made since the last load.
* :mod:`.taxonomy`: the shared topics, sources, sections and tags (curators only, recorded).
* :mod:`.groups`: the Instructors and Curators groups.
"""

from .cards import (
    CardInput,
    KeyPointInput,
    OptionInput,
    card_archive,
    card_children_problems,
    card_create,
    card_delete,
    card_field_problems,
    card_learner_content,
    card_problems,
    card_publish,
    card_revision_record,
    card_snapshot,
    card_template_move,
    card_template_problems,
    card_unpublish,
    card_update,
    cards_set_status,
    template_latest_version,
)
from .common import Actor, CardConflict, content_digest
from .groups import (
    CURATORS_GROUP,
    INSTRUCTORS_GROUP,
    curators_group_ensure,
    instructors_group_ensure,
)
from .importing import (
    BankImportError,
    CardLookup,
    LoadReport,
    card_input_from_item,
    card_item_canonical,
    cards_import,
)
from .loading import LOADER_NOTE, BankLoadError, bank_load
from .taxonomy import (
    CURATE_PERMISSION,
    TaxonomyInUse,
    tags_ensure,
    taxonomy_content,
    taxonomy_delete,
    taxonomy_may_curate,
    taxonomy_save,
    taxonomy_usage,
)

__all__ = [
    "CURATE_PERMISSION",
    "CURATORS_GROUP",
    "INSTRUCTORS_GROUP",
    "LOADER_NOTE",
    "Actor",
    "BankImportError",
    "BankLoadError",
    "CardConflict",
    "CardInput",
    "CardLookup",
    "KeyPointInput",
    "LoadReport",
    "OptionInput",
    "TaxonomyInUse",
    "bank_load",
    "card_archive",
    "card_children_problems",
    "card_create",
    "card_delete",
    "card_field_problems",
    "card_input_from_item",
    "card_item_canonical",
    "card_learner_content",
    "card_problems",
    "card_publish",
    "card_revision_record",
    "card_snapshot",
    "card_template_move",
    "card_template_problems",
    "card_unpublish",
    "card_update",
    "cards_import",
    "cards_set_status",
    "content_digest",
    "curators_group_ensure",
    "instructors_group_ensure",
    "tags_ensure",
    "taxonomy_content",
    "taxonomy_delete",
    "taxonomy_may_curate",
    "taxonomy_save",
    "taxonomy_usage",
    "template_latest_version",
]
