"""Events out (DESIGN 13): the decisions feed (``feed``), the outbox written with each change, webhook
endpoints, and their delivery."""
