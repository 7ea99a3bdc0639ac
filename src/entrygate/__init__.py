"""entrygate: entry decisions for checkout-free stores."""
from importlib.metadata import PackageNotFoundError, version

try:  # one source of truth: the installed package's metadata, from pyproject.toml's version
    __version__ = version("entrygate")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
