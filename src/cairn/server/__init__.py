"""The registry server: the REST API over the same services the embedded registry uses.

``create_app(settings)`` builds the FastAPI application; ``cairn serve`` runs it with uvicorn.
Routes hold no business rules: each one names the access it needs (see :mod:`.security`) and
calls the registry acting as the authenticated principal.
"""
