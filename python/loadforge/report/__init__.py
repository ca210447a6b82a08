"""Reports of a finished (or running) load test: console, JSON, CSV."""
