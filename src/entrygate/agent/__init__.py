"""The gate agent (``entrygate gate agent``): a small program beside a reader that keeps the lane
working when the store's network or the platform is down (DESIGN 11, docs/gate-agent.md)."""
