"""The agency home page."""
