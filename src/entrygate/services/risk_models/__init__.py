"""Risk model operations for the console: the model page, promotion and the shadow (DESIGN 14)."""
