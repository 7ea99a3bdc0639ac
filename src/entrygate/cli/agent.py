"""``entrygate gate agent``: the gate agent beside a reader (DESIGN 11, docs/gate-agent.md)."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import typer

gate_app = typer.Typer(help="Programs that run at the gate.", no_args_is_help=True)


@gate_app.command("agent")
def agent(
    platform: str = typer.Option(..., help="The platform's base URL, e.g. https://entrygate.example.com."),
    gate_id: str = typer.Option(..., help="The gate this agent serves."),
    gate_key: str = typer.Option(..., envvar="ENTRYGATE_GATE_KEY",
                                 help="The gate's API key (or ENTRYGATE_GATE_KEY, which keeps it out of the process list)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (the reader's side of the store network)."),
    port: int = typer.Option(8700, help="Port to listen on."),
    state_dir: Path = typer.Option(Path("./entrygate-agent"), help="Where the bundle and offline decisions are kept."),
    online_timeout_ms: int = typer.Option(800, min=50, max=30_000,
                                          help="How long a request may wait for the platform before the agent decides."),
    bundle_refresh_s: float = typer.Option(300.0, min=1.0, help="How often the bundle is fetched while online."),
) -> None:
    """Serve the gate API next to the reader: forward to the platform, decide from the signed bundle when it does not answer."""
    import uvicorn

    from entrygate.agent.app import AgentConfig, create_app

    try:
        here = version("entrygate")
    except PackageNotFoundError:
        here = "0"
    config = AgentConfig(platform=platform, gate_id=gate_id, gate_key=gate_key, state_dir=state_dir.resolve(),
                         online_timeout_ms=online_timeout_ms, bundle_refresh_s=bundle_refresh_s, version=here)
    typer.echo(f"entrygate gate agent for gate {gate_id}: listening on http://{host}:{port}, platform {platform}, "
               f"state in {config.state_dir}", err=True)
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning", access_log=False)
