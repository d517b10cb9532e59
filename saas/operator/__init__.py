"""The platform operator's console."""
