"""Risk operations (DESIGN 14): allow and block lists, store rules, the review queue."""
