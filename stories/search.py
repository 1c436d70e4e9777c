"""Story search: ``search_stories(queryset, query)`` behind ``StoryQuerySet.search()``.

This portable version asks that every word of the query appear, in any case, in
``Story.search_text`` (the headlines and excerpts of the lead and its coverage).
A PostgreSQL full-text version can replace it behind the same function.
"""

MAX_QUERY_LENGTH = 200  # characters of the query that are read
MAX_WORDS = 8  # words that are matched; more would only slow the scan down


def search_words(query):
    """The words of ``query`` that a search uses, lower-cased, without repeats, in order."""
    words = []
    for word in (query or "")[:MAX_QUERY_LENGTH].lower().split():
        if word not in words:
            words.append(word)
    return words[:MAX_WORDS]


def search_stories(queryset, query):
    """Stories of ``queryset`` whose search text holds every word of ``query``; none for an empty query."""
    words = search_words(query)
    if not words:
        return queryset.none()
    for word in words:
        queryset = queryset.filter(search_text__icontains=word)
    return queryset
