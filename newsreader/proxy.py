"""The client's address when the site runs behind trusted reverse proxies.

TRUSTED_PROXY_COUNT is how many proxies in front of the app append the address they
received a request from to X-Forwarded-For (nginx with ``$proxy_add_x_forwarded_for``
counts 1; a CDN in front of nginx makes it 2). The chain of addresses a request went
through is X-Forwarded-For followed by REMOTE_ADDR (the last proxy itself); the
client is the address the outermost trusted proxy recorded, TRUSTED_PROXY_COUNT
places from the right of X-Forwarded-For. Entries further left were written by the
client and are never believed: a forged "X-Forwarded-For: 192.0.2.1" arrives as
"192.0.2.1, <real address>", and the real address is the one counted.

With TRUSTED_PROXY_COUNT = 0 (the default) X-Forwarded-For is ignored entirely. The
app servers must then only be reachable through the proxies, or anyone could write
the header the proxies are trusted for.
"""

import ipaddress

from django.conf import settings


def _address(value):
    """A normalised IP address, or None for anything else ("unknown", a port, garbage)."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request):
    """The client's IP address for django-axes (AXES_CLIENT_IP_CALLABLE)."""
    remote = request.META.get("REMOTE_ADDR") or ""
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return _address(remote) or remote or None
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    chain = [*forwarded, remote]
    # `count` trusted hops from the right. A shorter chain means the request skipped an
    # outer proxy (it reached an inner one directly): its left-most entry is the best known.
    picked = chain[-(count + 1)] if len(chain) > count else chain[0]
    return _address(picked) or _address(remote) or remote or None
