"""Widgets only. Talks to core through plain calls and to ml only through workers."""
