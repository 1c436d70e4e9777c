"""Stories, their lead articles and their coverage by other outlets.

Words (the README's glossary too): a *provider* is an outlet, a news
organisation told apart by its domain (pages say "outlet", the code and URLs
"provider"); the *lead* is a story's headline article; its *coverage* is the
document's ``related`` items, the same news from other outlets.

Every lead and every related item of a seed document is an ``Article``, stored
once per URL. A ``Story`` is one lead article plus its coverage (other outlets'
articles on the same news), in document order through ``Coverage``.

Counts that public pages show (coverage per story, stories per topic or outlet)
are stored, so no public page counts over a whole table; the importer and the
admin's publish actions keep them fresh through ``refresh_counts()``.

Takedowns (``stories.takedown``): an editor may hide one coverage item from one
story (``CoverageTakedown``) or an article everywhere (``Article.hidden_at``).
Both are kept apart from the rows the importer rewrites, so no re-import brings
an item back; ``Coverage.hidden`` copies the decision onto each coverage row so
that every reader (pages, feeds, counts) filters with ``Coverage.objects.shown()``
and no join.
"""

import json

from django.contrib.postgres.search import SearchVectorField
from django.db import connection, models
from django.db.models import F, Q, Value
from django.urls import reverse
from django.utils.text import slugify

from stories.languages import UNKNOWN_LANGUAGE

# How many outlet names a story card shows ("covered by N outlets: A, B, C").
OUTLETS_PREVIEW_SIZE = 4


class Provider(models.Model):
    name = models.CharField(max_length=200, help_text="The outlet's name as readers know it.")
    domain = models.CharField(
        max_length=253,
        unique=True,
        help_text="The outlet's web domain, such as bostonglobe.com. Outlets are told apart by domain.",
    )
    slug = models.SlugField(max_length=255, unique=True, help_text="Used in the outlet's page address.")
    led_count = models.PositiveIntegerField(
        default=0, editable=False, help_text="Published stories this outlet led (kept up to date by the site)."
    )
    covered_count = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Published stories this outlet covered (kept up to date by the site).",
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["-led_count", "-covered_count"], name="provider_activity_idx")]

    def __str__(self):
        return f"{self.name} ({self.domain})"

    def get_absolute_url(self):
        return reverse("stories:provider_detail", kwargs={"slug": self.slug})

    @staticmethod
    def slug_for(domain):
        return slugify(domain.replace(".", "-"))[:255] or "outlet"


class Topic(models.Model):
    name = models.CharField(max_length=100, help_text="The topic's name as shown to readers.")
    slug = models.SlugField(max_length=100, unique=True, help_text="Used in the topic's page address.")
    story_count = models.PositiveIntegerField(
        default=0, editable=False, help_text="Published stories on this topic (kept up to date by the site)."
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("stories:topic_detail", kwargs={"slug": self.slug})


class Article(models.Model):
    """One outlet's article: a story's lead, or coverage of a story, or both."""

    title = models.CharField(max_length=500)
    excerpt = models.TextField(blank=True)
    published_at = models.DateTimeField(help_text="When the outlet published it (stored in UTC).")
    web_url = models.URLField(max_length=2000, unique=True, help_text="The article's canonical address.")
    amp_url = models.URLField(max_length=2000, blank=True, help_text="The outlet's lightweight (AMP) page.")
    cdn_amp_url = models.URLField(max_length=2000, blank=True, help_text="The AMP page through Google's AMP cache.")
    type = models.CharField(max_length=50, default="article", help_text="Kind of item: article, video, ...")
    quality = models.PositiveIntegerField(default=0, help_text="Source quality score (0 and up; no upper limit).")
    heat = models.IntegerField(default=-1, help_text="Popularity score; -1 means not scored.")
    # No index of its own: article_provider_time_idx (provider, -published_at) serves every lookup by outlet.
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="articles", db_index=False)
    images = models.JSONField(default=list, blank=True, help_text="Images: a list of {url, width, height, cached}.")
    language = models.CharField(
        max_length=35,
        default=UNKNOWN_LANGUAGE,
        help_text="The language of its headline and excerpt (a code such as en, fr, ja): from the document, "
        "else detected at import; “unknown” when the detector was unsure. Pages mark the text with it.",
    )
    # Set by an editor only (stories.takedown): never among the columns an import writes.
    hidden_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When an editor hid this article from every story; re-imports never show it again.",
    )
    # A database default: the importer's raw INSERT of articles names only the columns it writes.
    hidden_reason = models.TextField(
        blank=True, db_default="", editable=False, help_text="Why it was hidden everywhere."
    )

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quality__gte=0), name="article_quality_non_negative"),
            models.CheckConstraint(condition=Q(heat__gte=-1), name="article_heat_minus_one_or_more"),
        ]
        indexes = [models.Index(fields=["provider", "-published_at"], name="article_provider_time_idx")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return self.web_url

    @property
    def image(self):
        return self.images[0] if self.images else None


class TopicRows(models.Aggregate):
    """A group's topics as JSON text, ``[[id, slug, name], ...]``: SQLite's json_group_array (in no
    set order: ``attach_topics()`` sorts), PostgreSQL's json_agg by name, then id."""

    function = "JSON_GROUP_ARRAY"
    template = "%(function)s(JSON_ARRAY(%(expressions)s))"
    output_field = models.TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        pk, slug, name = (compiler.compile(expression) for expression in self.source_expressions)  # not the filter
        sql = f"JSON_AGG(JSON_BUILD_ARRAY({pk[0]}, {slug[0]}, {name[0]}) ORDER BY {name[0]}, {pk[0]})::text"
        return sql, (*pk[1], *slug[1], *name[1], *name[1], *pk[1])


def attach_topics(story):
    """Give a story loaded ``with_topic_rows()`` its topics, as
    ``prefetch_related("topics")`` would: ``story.topics.all()`` returns them, by name then id
    (Topic's ordering), with no query. Each has the id, slug and name (what pages read), not
    ``story_count``."""
    rows = json.loads(story.topics_json) if story.topics_json else []
    if connection.vendor == "sqlite":  # Python's order of str is SQLite's default (binary) collation's
        rows.sort(key=lambda row: (row[2], row[0]))
    prefetched = Topic.objects.all()
    prefetched._result_cache = [Topic(id=pk, slug=slug, name=name) for pk, slug, name in rows]
    prefetched._prefetch_done = True
    story.__dict__.setdefault("_prefetched_objects_cache", {})["topics"] = prefetched


class StoryQuerySet(models.QuerySet):
    def published(self):
        # Value(True) makes the SQL "published = true": SQLite can search the
        # (published, ...) indexes with that, while the plain "WHERE published"
        # that filter(published=True) writes makes it scan and sort the table.
        return self.filter(published=Value(True))

    def visible_to(self, user, *, preview=False):
        """What ``user`` may see: published stories; with ``preview``, drafts too for staff.

        Only a story's own URL passes ``preview``: drafts never reach a list, a
        count, a feed, a search, an archive or the sitemap, even for staff. The
        user is only looked at for a preview (a lazy ``request.user`` stays unread).
        """
        if preview and user.is_staff:
            return self.all()
        return self.published()

    def for_listing(self):
        """What a story card needs, in a fixed number of queries."""
        return self.select_related("lead__provider").prefetch_related("topics")

    def for_story_page(self):
        coverage = Coverage.objects.shown().select_related("article__provider").order_by("position")
        return self.select_related("lead__provider").prefetch_related(
            "topics", models.Prefetch("coverage_items", queryset=coverage)
        )

    def with_topic_rows(self):
        """Each story's topics in its own row, as ``topics_json`` (``TopicRows``): ``attach_topics()``
        then gives them to the story, as a ``prefetch_related("topics")`` would without its query."""
        per_story = (
            Story.topics.through.objects.filter(story_id=models.OuterRef("pk"))
            .order_by()
            .values("story_id")
            .annotate(rows=TopicRows("topic_id", "topic__slug", "topic__name"))
            .values("rows")
        )
        return self.annotate(topics_json=models.Subquery(per_story, output_field=models.TextField()))

    def for_card_keys(self, *also):
        """Just enough of each story to page a list and find its cached card: the id, the update
        time and the sort keys (and the fields in ``also``). ``cards.story_cards()`` loads the
        rest for the cards it must render."""
        return self.only("id", "slug", "published_at", "updated_at", "outlet_count", "quality", "heat", *also)

    def for_cards(self):
        """What a cached story card needs, without the topics: ``cards.story_cards()`` prefetches
        those for the cards missing from the cache only. The big and private fields stay behind."""
        return self.select_related("lead__provider").defer(
            "search_text", "search_grams", "search_runs", "search_vector", "secured", "source_file", "lead__images"
        )

    def by_outlet(self, provider_id):
        """Stories an outlet led or covered (a union of two index searches, not an OR that scans)."""
        led = Story.objects.filter(lead__provider_id=provider_id).order_by().values("pk")
        covered = Coverage.objects.shown().filter(article__provider_id=provider_id).order_by().values("story_id")
        return self.filter(pk__in=led.union(covered))

    def covered_by(self, provider_id):
        """Stories with coverage by an outlet."""
        return self.filter(pk__in=Coverage.objects.shown().filter(article__provider_id=provider_id).values("story_id"))

    def on_topics(self, topic_ids):
        """Stories on any of these topics, each once.

        A correlated EXISTS, not ``pk IN (...)``: with an ordering and a limit the
        database walks its (published, -published_at) index and checks each
        story's topics by the (story, topic) key, stopping at the limit, instead
        of first gathering every story of those topics.
        """
        on_topic = Story.topics.through.objects.filter(story_id=models.OuterRef("pk"), topic_id__in=topic_ids)
        return self.filter(models.Exists(on_topic))

    def newest_first(self):
        return self.order_by("-published_at", "-id")

    def top_first(self):
        """Most outlets first, then quality, then heat."""
        return self.order_by("-outlet_count", "-quality", "-heat", "-published_at", "-id")

    def search(self, query):
        """Stories whose lead or coverage mentions every word of ``query`` in a headline or excerpt."""
        from stories.search import search_stories

        return search_stories(self, query)


class Story(models.Model):
    lead = models.OneToOneField(
        Article,
        on_delete=models.PROTECT,
        related_name="led_story",
        help_text="The headline article this story is built around.",
    )
    coverage = models.ManyToManyField(
        Article, through="Coverage", related_name="covered_in", blank=True, help_text="Other outlets' articles."
    )
    slug = models.SlugField(
        max_length=120, allow_unicode=True, help_text="Readable part of the address, from the headline."
    )
    category = models.CharField(max_length=100, blank=True)
    topics = models.ManyToManyField(Topic, related_name="stories", blank=True)
    heat = models.IntegerField(default=-1, help_text="Popularity score; -1 means not scored.")
    quality = models.PositiveIntegerField(default=0, help_text="Source quality score (0 and up).")
    published = models.BooleanField(
        default=True,
        help_text="Readers see only published stories. Once you change this, re-imports leave it as you set it.",
    )
    published_at = models.DateTimeField(help_text="The lead article's publication time (copied for sorting).")
    editor_decided_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When an editor last set the published flag; re-imports never change it after that.",
    )
    secured = models.TextField(blank=True, editable=False, help_text="Opaque value from the source; never shown.")
    source_file = models.CharField(max_length=500, blank=True, help_text="The seed file this story came from.")
    coverage_count = models.PositiveIntegerField(default=0, help_text="Number of coverage items.")
    outlet_count = models.PositiveIntegerField(default=1, help_text="Distinct outlets, the lead's included.")
    outlets_preview = models.JSONField(
        default=list, blank=True, editable=False, help_text="First few covering outlets: [[name, slug], ...]."
    )
    image = models.JSONField(
        null=True, blank=True, editable=False, help_text="The story's picture: the lead's, else a coverage item's."
    )
    search_text = models.TextField(
        blank=True, editable=False, help_text="Headlines and excerpts of the lead and coverage, for search."
    )
    # PostgreSQL only: search_text as a tsvector, kept up to date by the importer,
    # with a GIN index (migration 0003). Stays empty on SQLite.
    search_vector = SearchVectorField(null=True, blank=True, editable=False)
    # Null, no default: on SQLite the column is then added in place, not by rebuilding the table
    # (a rebuild drops the FTS triggers of migrations 0004 and 0007).
    search_grams = models.TextField(  # noqa: DJ001
        null=True,
        blank=True,
        editable=False,
        help_text="Every character and 2-character pair of search_text's CJK/Thai runs, space-separated (search).",
    )
    search_runs = models.TextField(  # noqa: DJ001
        null=True,
        blank=True,
        editable=False,
        help_text="search_text's CJK/Thai runs of 3 characters or more, space-separated: what the trigram index "
        "reads (search).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StoryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "stories"
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quality__gte=0), name="story_quality_non_negative"),
            models.CheckConstraint(condition=Q(heat__gte=-1), name="story_heat_minus_one_or_more"),
            models.CheckConstraint(
                condition=Q(outlet_count__gte=1) & Q(coverage_count__gte=F("outlet_count") - 1),
                name="story_counts_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["published", "-published_at", "-id"], name="story_published_newest_idx"),
            models.Index(
                fields=["published", "-outlet_count", "-quality", "-heat", "-published_at", "-id"],
                name="story_published_top_idx",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("stories:story_detail", kwargs={"pk": self.pk, "slug": self.slug or "story"})

    @property
    def title(self):
        return self.lead.title

    @property
    def is_unscored(self):
        return self.heat == -1


class CoverageQuerySet(models.QuerySet):
    def shown(self):
        """Coverage readers may see: not taken down by an editor (from this story or everywhere)."""
        return self.filter(hidden=False)


class Coverage(models.Model):
    """One article covering a story, at its place in the document's ``related`` list."""

    # No single-column indexes: (story, article) unique serves lookups by story, coverage_article_idx by article.
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="coverage_items", db_index=False)
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="coverage_items", db_index=False)
    position = models.PositiveSmallIntegerField(help_text="Order in the source document, from 0.")
    # A copy of the editors' takedowns (CoverageTakedown for this story and article, or
    # Article.hidden_at), written by stories.takedown and by the importer as it inserts rows.
    hidden = models.BooleanField(default=False, editable=False, help_text="Taken down by an editor: never shown.")

    objects = CoverageQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "coverage"
        ordering = ["story", "position"]
        constraints = [
            models.UniqueConstraint(fields=["story", "article"], name="coverage_unique_article_per_story"),
            models.UniqueConstraint(fields=["story", "position"], name="coverage_unique_position_per_story"),
        ]
        indexes = [models.Index(fields=["article"], name="coverage_article_idx")]

    def __str__(self):
        return f"{self.article} (coverage of story {self.story_id})"


class CoverageTakedown(models.Model):
    """An editor's decision to hide one article from one story's coverage (stories.takedown).

    Kept apart from ``Coverage``, which the importer deletes and writes again on every
    update of a story, so that the decision outlives any re-import, even one of a
    document that drops the item and a later one that brings it back. Restoring the
    item deletes this row; the admin's history keeps who did what, when and why.
    """

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="takedowns", db_index=False)
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="takedowns", db_index=False)
    reason = models.TextField(help_text="Why the item was hidden (a legal request, a dead or wrong link...).")
    hidden_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["story", "article"], name="takedown_unique_article_per_story")]
        indexes = [models.Index(fields=["article"], name="takedown_article_idx")]

    def __str__(self):
        return f"{self.article} (hidden from story {self.story_id})"


class ImportedDocument(models.Model):
    """A seed document already imported, by content hash: re-importing it writes nothing."""

    content_hash = models.CharField(max_length=64, unique=True)
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="documents")
    source_file = models.CharField(max_length=500)
    imported_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.source_file
