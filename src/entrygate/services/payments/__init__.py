"""Payments: a trip's pre-authorization (capture, cancel, adjust, refund), trip closing and the sweeps."""
