"""HTTP API (FastAPI): ``/v1/ask``, ``/v1/search``, ``/v1/documents``, ``/healthz`` and an OpenAI-compatible
``/v1/chat/completions``. A thin front end like the CLI: it parses requests, calls the library
(:class:`~policy_assistant.answer.engine.Assistant`, its retriever) and renders JSON; domain errors become
one-line JSON errors with a fix. Started by ``policy-assistant serve``; see docs/api.md and docs/deploy.md.
"""
