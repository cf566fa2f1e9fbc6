"""Portcullis core: domain services, crypto and storage shared by every Lambda function."""

from portcullis import lean_imports

# Before any function module imports Powertools' event handler (cold start, issue 2);
# `http.handler()` (or the publisher) resumes normal collection once the app is built.
lean_imports.pause_collector()
lean_imports.install()
