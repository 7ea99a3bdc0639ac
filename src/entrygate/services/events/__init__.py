"""Events out (DESIGN 13): the outbox written with each change, webhook endpoints, and their delivery."""
