"""What the JSON API and the HTML console both read and show: request shapes, parsing, store views.

Free of the web framework (import-linter keeps it so), so either edge may import it and neither
imports the other.
"""
