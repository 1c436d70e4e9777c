"""Import seed documents, in three layers.

- ``documents``: read and validate one file into plain data (no database);
- ``writer``: write a batch of validated documents (bulk upserts, atomic per document);
- ``runner``: walk paths, skip documents already imported, parse, write, count.

The ``import_stories`` management command is a thin shell around ``runner``.
"""

from stories.importer.documents import DocumentError, StoryData, read_document
from stories.importer.runner import ImportReport, import_paths

__all__ = ["DocumentError", "ImportReport", "StoryData", "import_paths", "read_document"]
