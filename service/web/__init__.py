"""Server-rendered web pages in Norwegian bokmål (Jinja2, no JavaScript framework).

Every form carries a CSRF token (double submit: a cookie and a hidden field that must match),
every page has ``lang="nb"``, a skip link, labelled fields and visible focus, and user text
is escaped by Jinja2's autoescape.
"""
