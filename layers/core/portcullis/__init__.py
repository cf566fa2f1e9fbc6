"""Portcullis core: domain services, crypto and storage shared by every Lambda function."""

from portcullis import lean_imports

# Before any function module imports Powertools' event handler (cold start, issue 2).
lean_imports.install()
