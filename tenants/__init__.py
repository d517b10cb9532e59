"""Agency features, one package per area."""
