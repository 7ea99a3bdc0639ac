"""entrygate: entry decisions for checkout-free stores."""
__version__ = "0.1.0"
