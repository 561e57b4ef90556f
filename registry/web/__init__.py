"""The web interface: server-rendered pages (Jinja2, htmx) over the same use cases as the API and the CLI.

`install(app)` mounts the pages under `/`, their static files under `/static` and Swagger UI's own files
for an offline `/docs`. Arabic is the default language (right to left); English is the other.
"""

from registry.web.app import install

__all__ = ["install"]
