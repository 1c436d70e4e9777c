"""Which picture URLs the site shows: one policy for the importer, the templates and the CSP.

An outlet's picture is loaded by the reader's browser from the outlet's host,
so what the importer stores must be what the Content-Security-Policy lets the
browser load, and nothing more. Both read ``ALLOWED_SCHEMES`` here:

- the importer (``stories.importer.fields.clean_images``) drops any other
  picture with a warning naming the file and field;
- the CSP's ``img-src`` (``stories.middleware``) is ``IMG_SRC``, built from it;
- the templates' ``picture_url`` filter and the JSON-LD pass on only the URLs
  ``picture_url()`` allows (older rows, a hand edit in the admin).

http: is refused: the CSP would block it anyway (and a page with it is mixed
content), so storing it only makes a broken picture.
"""

import re
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("https",)

# The CSP's img-src: the site's own files, and outlets' pictures by scheme (their hosts are too many to list).
IMG_SRC = " ".join(["'self'", *(f"{scheme}:" for scheme in ALLOWED_SCHEMES)])

_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def refusal(url):
    """Why ``url`` may not be a picture, in words; None when it may.

    Absolute URLs of an allowed scheme with a host, no user name or password
    (browsers refuse to load those) and no space or control character.
    """
    if not isinstance(url, str) or not url:
        return "is not a URL"
    if _SPACE_OR_CONTROL.search(url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port out of range
    except ValueError:
        return "is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = f"{scheme}:" if scheme else "a relative or protocol-relative"
        return (
            f"must be an {' or '.join(ALLOWED_SCHEMES)} URL, not {shown} one "
            f"(the site's Content-Security-Policy allows pictures over {', '.join(ALLOWED_SCHEMES)} only)"
        )
    if not parts.hostname:
        return "must name a host"
    if parts.username is not None or parts.password is not None:
        return "must not hold a user name or password"
    if port == 0:
        return "has an invalid port"
    return None


def picture_url(url):
    """``url`` if the policy allows it as a picture, else the empty string."""
    return url if refusal(url) is None else ""
