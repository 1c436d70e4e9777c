"""Generate seed documents shaped like the real ones, deterministically.

    python bench/make_corpus.py --stories 10000 --out /tmp/corpus [--seed 1] [--related 0-15]

Each document has a lead article and 0 to 15 related items (about 12 KB on
average, like the real documents), real-looking outlets and topics, some
related URLs shared with other documents, and some drafts. The same arguments
always give the same bytes.
"""

import argparse
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUTLET_WORDS = [
    "Globe", "Herald", "Tribune", "Times", "Post", "Journal", "Chronicle", "Wire", "Review", "Gazette",
    "Observer", "Courier", "Ledger", "Dispatch", "Register", "Monitor", "Insider", "Daily", "Weekly", "Beacon",
]  # fmt: skip
OUTLET_PLACES = [
    "Boston", "Chicago", "Tech", "Business", "Science", "Pacific", "Atlantic", "Metro", "Capital", "Valley",
    "Northern", "Southern", "Digital", "Silicon", "Future", "Global", "City", "Harbor", "Summit", "Prairie",
]  # fmt: skip
TOPICS = [
    "AI", "Computer Vision", "Facebook AI", "Microsoft AI", "AWS AI", "Machine Learning",
    "Natural Language Processing", "AI in Autos", "AI in Healthcare", "AI in Robotics", "AI Hardware",
    "AI in Finance",
]  # fmt: skip
WORDS = [
    "facial",
    "recognition",
    "police",
    "amazon",
    "microsoft",
    "ibm",
    "model",
    "data",
    "privacy",
    "regulation",
    "startup",
    "funding",
    "chip",
    "robot",
    "vehicle",
    "hospital",
    "research",
    "study",
    "network",
    "language",
    "vision",
    "cloud",
    "launch",
    "ban",
    "moratorium",
    "lawsuit",
    "settlement",
    "camera",
    "accuracy",
    "bias",
    "training",
    "dataset",
    "algorithm",
    "benchmark",
    "release",
    "partnership",
    "acquisition",
    "investors",
    "billion",
    "million",
    "company",
    "government",
    "agency",
    "report",
    "experts",
    "critics",
    "users",
    "developers",
]


def outlets(count=400):
    rng = random.Random(7)
    seen, result = set(), []
    while len(result) < count:
        name = f"The {rng.choice(OUTLET_PLACES)} {rng.choice(OUTLET_WORDS)}"
        domain = name.lower().replace("the ", "").replace(" ", "") + rng.choice([".com", ".net", ".org", ".news"])
        if domain not in seen:
            seen.add(domain)
            result.append((name, domain))
    return result


# Search in every script: one lead in CJK_EVERY has a Japanese or Chinese headline, from its own
# random stream (the Latin documents stay byte for byte the same). Each word of CJK_WORDS is in
# about a quarter of them (新型コロナ, 東京: common substrings); CJK_RARE is in one lead in
# CJK_RARE_EVERY (佐々木, 朗希: rare substrings of 3 and 2 characters).
CJK_EVERY = 20
CJK_RARE_EVERY = 20_000
CJK_RARE = "佐々木朗希"
CJK_WORDS = [
    "東京", "大阪", "新型コロナ", "人工知能", "顔認証", "警察", "規制", "研究者", "企業", "発表",
    "北京", "上海", "泰国", "签署", "协定", "数据", "隐私", "机器人", "芯片", "投资",
]  # fmt: skip


def cjk_headline(index):
    """The Japanese or Chinese headline of document ``index``, or None for a Latin one."""
    if index % CJK_EVERY:
        return None
    rng = random.Random(f"cjk-{index}")
    words = [rng.choice(CJK_WORDS) for _ in range(rng.randint(4, 8))]
    if index % CJK_RARE_EVERY == 0:
        words.insert(1, CJK_RARE)
    return "、".join(words) + "。"


def sentence(rng, words):
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:]


def quoted(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def article_lines(rng, outlet, when, indent, slug, quality):
    name, domain = outlet
    url = f"https://www.{domain}/{when:%Y/%m/%d}/{slug}/"
    pad = " " * indent
    cdn = "https://www-" + domain.replace(".", "-") + ".cdn.ampproject.org/c/s/"
    lines = [
        f"{pad}title: {quoted(sentence(rng, rng.randint(7, 14)))}",
        f"{pad}excerpt: {quoted(sentence(rng, rng.randint(40, 60)) + '.')}",
        f"{pad}publishedDateTime: {when:%Y-%m-%dT%H:%M:%SZ}",
        f"{pad}webUrl: {quoted(url)}",
        f"{pad}ampWebUrl: {quoted(url + 'amp/')}",
        f"{pad}cdnAmpWebUrl: {quoted(cdn + url[8:] + 'amp/')}",
        f"{pad}type: article",
        f"{pad}provider:",
        f"{pad}  name: {quoted(name)}",
        f"{pad}  domain: {domain}",
        f"{pad}quality: {quality}",
        f"{pad}images:",
        f'{pad}  - url: "https://cdn.{domain}/images/{slug}.jpg?w=1200&#038;strip=all"',
        f"{pad}    width: 1200",
        f"{pad}    height: 630",
        f"{pad}    isCached: true",
    ]
    return lines


def document(index, rng, pool):
    all_outlets = pool["outlets"]
    when = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=37 * index + rng.randint(0, 30))
    lead_outlet = rng.choice(all_outlets)
    lines = ["---", "category: news"]
    lead = article_lines(rng, lead_outlet, when, 0, f"story-{index}", rng.randint(0, 150))
    headline = cjk_headline(index)
    if headline:
        lead[0] = f"title: {quoted(headline)}"
    lines += lead[:7]
    lines.append(f"quality: {rng.randint(0, 150)}")
    lines.append(f"heat: {rng.choice([-1, -1, rng.randint(0, 150)])}")
    published = 1.0 if pool.get("all_published") else rng.random()
    if published < 0.3:
        lines.append("published: false")
    elif published < 0.6:
        lines.append("published: true")
    lines += ["", "provider:", f"  name: {quoted(lead_outlet[0])}", f"  domain: {lead_outlet[1]}", "", "topics:"]
    lines += [f"  - {topic}" for topic in rng.sample(TOPICS, rng.randint(1, 3))]
    related = rng.randint(pool["related_min"], pool["related_max"])
    if related:
        lines += ["", "related:"]
    for position in range(related):
        if pool["shared"] and rng.random() < 0.1:
            shared = rng.choice(pool["shared"])  # the same article covered in several documents
            lines += [("  - " if i == 0 else "    ") + line for i, line in enumerate(shared)]
            continue
        item_when = when + timedelta(minutes=rng.randint(-600, 600))
        item = article_lines(
            rng, rng.choice(all_outlets), item_when, 0, f"story-{index}-{position}", rng.randint(0, 120)
        )
        lines += [("  - " if i == 0 else "    ") + line for i, line in enumerate(item)]
        if len(pool["shared"]) < 500 and rng.random() < 0.05:
            pool["shared"].append(item)
    lines += ["", f"secured: {quoted(''.join(rng.choice('ABCDEFabcdef0123456789+/') for _ in range(300)))}", "---", ""]
    return "\n".join(lines)


def write_corpus(out, stories, seed=1, related=(0, 15), all_published=False):
    """Write ``stories`` documents under ``out`` (1,000 per folder); returns the list of paths."""
    out = Path(out)
    rng = random.Random(seed)
    pool = {
        "outlets": outlets(),
        "shared": [],
        "related_min": related[0],
        "related_max": related[1],
        "all_published": all_published,
    }
    paths = []
    for index in range(stories):
        folder = out / f"{index // 1000:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{index:07d}.md"
        path.write_text(document(index, rng, pool), encoding="utf-8")
        paths.append(path)
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--related", default="0-15", help="min-max related items per document")
    parser.add_argument("--all-published", action="store_true", help="no drafts")
    args = parser.parse_args()
    low, high = (int(x) for x in args.related.split("-"))
    paths = write_corpus(args.out, args.stories, args.seed, (low, high), args.all_published)
    size = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} documents, {size / max(len(paths), 1) / 1024:.1f} KB on average, to {args.out}")


if __name__ == "__main__":
    main()
