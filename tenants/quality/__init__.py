"""Monthly quality summary: each agency's month against its own targets."""
