def SecurityHeadersMiddleware(get_response):  # noqa: N802 - placeholder, replaced below
    return get_response
