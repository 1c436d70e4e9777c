"""Import seed documents, in three layers.

- ``documents``: read and validate one file into plain data (no database). It
  puts a document together from two helpers: ``yaml_loader``, the strict YAML
  loader of the front matter, and ``fields``, the cleaners of one field each;
- ``writer``: write a batch of validated documents (bulk upserts, atomic per
  document); the fields a story derives from its articles come from ``derived``
  (which the test factories use too), the SQL statements from ``sql``;
- ``runner``: walk paths, skip documents already imported, parse, write, count;
  then recount the stored per-topic and per-outlet counts and tell the caches.

``import_paths`` (runner) is the whole job; the ``import_stories`` management
command is a thin shell around it that parses options and prints.
"""

from stories.importer.documents import DocumentError, StoryData, read_document
from stories.importer.runner import ImportReport, import_paths

__all__ = ["DocumentError", "ImportReport", "StoryData", "import_paths", "read_document"]
