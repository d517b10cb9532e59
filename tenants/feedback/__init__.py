"""Visit ratings, opinions and complaints, rectifications."""
