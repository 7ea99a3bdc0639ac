"""Events out of the platform: the decisions feed (``feed``)."""
