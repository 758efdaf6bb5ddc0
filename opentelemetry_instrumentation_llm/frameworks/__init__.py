"""Framework adapters: each translates a framework's own extension points into the core's
operation records (``_core/operations.py``) and never creates spans itself."""
