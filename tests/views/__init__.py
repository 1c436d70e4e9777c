"""The reader site, one file per kind of page: what a reader sees on it, and what it costs."""
