"""The command line, one face of the registry beside the HTTP API and the web pages.

`main` holds the administrators' commands and mounts the others: `accounts` (agencies, users, tokens),
`consent` (consents, break-glass), `review` (the national unit's queue), `audit` (the access log). Every
command parses, calls one function of `registry.services` and shapes the answer; `common` is the one error
renderer (exit codes) and the one rule for who acts.
"""

from registry.cli.main import app, main

__all__ = ["app", "main"]
