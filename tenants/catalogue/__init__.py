"""The service catalogue: categories, items and their dated terms."""
