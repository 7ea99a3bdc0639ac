"""Processor plugins: ``ENTRYGATE_PROCESSOR`` names one of the entry points ``entrygate.processors``.

A plugin is a callable ``factory(settings) -> processor``, so a processor can ship as its own
package (``[project.entry-points."entrygate.processors"] name = "package.module:factory"``).
A plugin that is missing, does not load or fails to start stops the platform at start with a
message naming it and the plugins there are: a gate that cannot hold money must not open.
"""
from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from entrygate.services.ports.processor import PaymentProcessor

GROUP = "entrygate.processors"
_OPERATIONS = ("preauthorize", "increment", "capture", "release", "refund")


class ProcessorPluginError(RuntimeError):
    """The processor plugin named in the settings is missing, broken or incomplete."""


def available_processors() -> list[str]:
    """The names of the installed processor plugins, sorted."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def load_processor(name: str, settings: object) -> PaymentProcessor:
    """The processor built by the plugin ``name`` from ``settings``; ProcessorPluginError otherwise."""
    entry = _entry_point(name)
    try:
        factory = entry.load()
    except Exception as exc:  # an ImportError or anything its module raises on import
        raise _error(name, f"could not be loaded from {entry.value} ({type(exc).__name__}: {exc})") from exc
    try:
        processor = factory(settings)
    except Exception as exc:
        raise _error(name, f"failed to start ({type(exc).__name__}: {exc})") from exc
    missing = [op for op in _OPERATIONS if not callable(getattr(processor, op, None))]
    if missing:
        raise _error(name, f"built a {type(processor).__name__} without {', '.join(missing)}")
    return processor


def _entry_point(name: str) -> EntryPoint:
    found = {ep.value: ep for ep in entry_points(group=GROUP) if ep.name == name}
    if not found:
        raise _error(name, "is not installed")
    if len(found) > 1:
        # Two packages claim the name: picking one silently could move money through the wrong one.
        raise _error(name, f"is claimed by several packages ({', '.join(sorted(found))})")
    return next(iter(found.values()))


def _error(name: str, what: str) -> ProcessorPluginError:
    names = ", ".join(available_processors()) or "none"
    return ProcessorPluginError(f"processor plugin {name!r} {what}; available processors: {names} "
                                f"(entry-point group {GROUP}, set ENTRYGATE_PROCESSOR)")
