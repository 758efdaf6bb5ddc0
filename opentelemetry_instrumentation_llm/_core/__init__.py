"""The recorder core: spans, metrics, events and stream proxies, shared by every provider adapter."""
