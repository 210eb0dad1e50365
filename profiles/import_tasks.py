"""Background work of CSV imports."""
