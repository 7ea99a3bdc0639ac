"""The backtest's plot: the two score distributions and the flips, as one PNG.

matplotlib is an optional extra (``pip install entrygate[plots]``) that only the CLI's plots
import, never ``entrygate serve``; the console draws its own SVG from the stored figures.
"""
from __future__ import annotations

import io
from pathlib import Path

from entrygate.risk.backtest import SCORE_BINS, BacktestResult, amount_text


class PlottingUnavailable(RuntimeError):
    """matplotlib is not installed (the ``plots`` extra)."""


def plot_backtest(result: BacktestResult, path: Path | str) -> bytes:
    """Write the plot to ``path`` and return its PNG bytes."""
    try:
        from matplotlib.figure import Figure  # Agg through Figure.savefig: no pyplot, no global backend
    except ImportError as exc:  # pragma: no cover - the dev and plots extras install it
        raise PlottingUnavailable("plots need matplotlib: pip install 'entrygate[plots]'") from exc
    fig = Figure(figsize=(9, 4))
    ax, bars = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    width = 100 / SCORE_BINS
    left = [i * width for i in range(SCORE_BINS)]
    ax.bar(left, result.score_histograms["current"], width=width, align="edge", alpha=0.55,
           label=f"current {result.current_version}")
    ax.bar(left, result.score_histograms["candidate"], width=width, align="edge", alpha=0.55,
           label=f"candidate {result.candidate}")
    ax.set(xlabel="risk score", ylabel="entries", title=f"{result.entries:,} entries with a payment outcome",
           yscale="symlog")
    ax.legend(fontsize=7)
    labels = ["open→deny\npaid", "open→deny\nunpaid", "deny→open\npaid", "deny→open\nunpaid"]
    values = [result.good_turned_away, result.open_to_deny - result.good_turned_away,
              result.good_let_in, result.losses_let_in]
    bars.bar(labels, values, color=["tab:orange", "tab:green", "tab:blue", "tab:red"])
    for i, v in enumerate(values):
        bars.annotate(f"{v:,}", (i, v), ha="center", va="bottom", fontsize=8)
    bars.set(title=f"flips; unpaid avoided {amount_text(result.unpaid_avoided)}", ylabel="entries")
    bars.tick_params(axis="x", labelsize=7)
    fig.suptitle(f"backtest: {result.candidate} against {result.current_version}"
                 + (f" since {result.since}" if result.since else ""), fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    data = buffer.getvalue()
    out = Path(path)
    if out.parent != Path(""):
        out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return data
