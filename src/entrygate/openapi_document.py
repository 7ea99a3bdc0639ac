"""Writes the OpenAPI document the platform serves: ``python -m entrygate.openapi_document [PATH]``.

``make openapi`` writes ``docs/openapi.json`` with it; a test fails when the served document and
that copy differ, so the committed copy is always the one a running platform gives.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from entrygate.web import openapi_document


def render(document: dict[str, Any]) -> str:
    """The document as committed: indented, keys in the order the app gives them, one final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render(openapi_document())
    if not argv:
        sys.stdout.write(text)
        return 0
    Path(argv[0]).write_text(text, encoding="utf-8")
    print(f"wrote {argv[0]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
