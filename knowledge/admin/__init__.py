"""The admin: cards and banks for instructors (:mod:`.cards`), the shared taxonomy for curators
(:mod:`.taxonomy`); the forms live in :mod:`.forms`."""

from . import cards, taxonomy  # noqa: F401  (importing registers the model admins)
