"""Small helpers that build rows for tests: make_story(**kw) and friends."""

import itertools
from datetime import UTC, datetime, timedelta

from stories.counts import refresh_counts
from stories.importer.derived import derived_fields
from stories.models import Article, Coverage, Provider, Story, Topic
from stories.search import index_stories

_seq = itertools.count(1)
BASE_TIME = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_provider(domain=None, name=None, **kw):
    n = next(_seq)
    domain = domain or f"outlet{n}.example.com"
    provider, _ = Provider.objects.get_or_create(
        domain=domain, defaults={"name": name or f"Outlet {n}", "slug": Provider.slug_for(domain), **kw}
    )
    return provider


def make_topic(name="AI", **kw):
    from django.utils.text import slugify

    topic, _ = Topic.objects.get_or_create(slug=slugify(name), defaults={"name": name, **kw})
    return topic


def make_article(title=None, provider=None, published_at=None, **kw):
    n = next(_seq)
    provider = provider or make_provider()
    return Article.objects.create(
        title=title or f"Article {n}",
        excerpt=kw.pop("excerpt", f"Excerpt of article {n}."),
        published_at=published_at or BASE_TIME,
        web_url=kw.pop("web_url", f"https://{provider.domain}/news/{n}"),
        provider=provider,
        **kw,
    )


def make_story(title=None, *, provider=None, published=True, published_at=None, coverage=(), topics=(), **kw):
    """A story with its lead article; ``coverage`` is a list of Articles or of dicts for make_article.

    Its derived fields are what an import of the same articles would store (``derived_fields``,
    which ``kw`` may override), and the stored counts of the topics and outlets it touches are
    recounted as an import recounts them: no test needs to recount by hand.
    """
    lead_kw = kw.pop("lead", {})
    published_at = published_at or BASE_TIME
    lead = make_article(title=title, provider=provider, published_at=published_at, **lead_kw)
    items = [item if isinstance(item, Article) else make_article(**item) for item in coverage]
    derived = derived_fields(lead, items, _outlet)
    story = Story.objects.create(lead=lead, published=published, published_at=published_at, **{**derived, **kw})
    Coverage.objects.bulk_create(Coverage(story=story, article=a, position=i) for i, a in enumerate(items))
    for topic in topics:
        story.topics.add(topic if isinstance(topic, Topic) else make_topic(topic))
    index_stories(Story.objects.filter(pk=story.pk))
    refresh_counts([story.pk])
    return story


def _outlet(article):
    provider = article.provider
    return provider.domain, provider.name, provider.slug


def hours(n):
    return timedelta(hours=n)


MINIMAL_DOCUMENT = (
    "---\ntitle: {title}\nwebUrl: {url}\npublishedDateTime: 2021-01-01T00:00:00Z\n"
    "provider:\n  name: Example\n  domain: example.com\n---\n"
)


def write_document(path, title, url="https://example.com/a"):
    """A minimal valid seed document at ``path``; the same ``url`` makes it a new version of the same story."""
    path.write_text(MINIMAL_DOCUMENT.format(title=title, url=url), encoding="utf-8")
    return path


def run_import(*paths, **options):
    """Run the import command in process; (exit status, stdout, stderr)."""
    import io

    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    status = 0
    try:
        call_command("import_stories", *map(str, paths), stdout=out, stderr=err, **options)
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()
