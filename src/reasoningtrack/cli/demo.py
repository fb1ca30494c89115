"""`reasoningtrack demo`: the interactive web demo (Gradio; the ``[demo]`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._apps import app
from .common import fail, user_errors
from .options import Backbone, BackboneOpt, BaseUrl, Checkpoint, Model, Profile, Reasoner, ReasonerOpt, component_options


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on. Anything but a loopback address exposes the demo to the network (a warning is printed)."),
    port: int = typer.Option(7860, "--port", help="Port to listen on (0: the first free one from 7860)."),
    share: bool = typer.Option(False, "--share", help="Also open a public Gradio share link (exposes the demo; a warning is printed)."),
    backbone: Backbone = None,
    backbone_opt: BackboneOpt = None,
    checkpoint: Checkpoint = None,
    reasoner: Reasoner = None,
    reasoner_opt: ReasonerOpt = None,
    model: Model = None,
    base_url: BaseUrl = None,
    profile: Profile = None,
    runs: Optional[Path] = typer.Option(None, "--runs", help="Folder for the runs (one subfolder per browser session). Default: a new temporary folder."),
    reports: Optional[Path] = typer.Option(None, "--reports", help="Folder searched for finished benchmarks' and experiments' report.html (the Reports tab)."),
    data_root: Optional[str] = typer.Option(None, "--data-root", help="Dataset root prefilled in the page's dataset picker."),
    max_upload_mb: float = typer.Option(200.0, "--max-upload-mb", help="Largest video a visitor may upload."),
    max_frames: int = typer.Option(5000, "--max-frames", help="Most frames one run tracks."),
    concurrency: int = typer.Option(2, "--concurrency", help="Runs at once (more wait in Gradio's queue)."),
    lock_models: bool = typer.Option(False, "--lock-models", help="Visitors cannot change the reasoner's model path or server URL (always on when exposed)."),
) -> None:
    """Start the interactive web demo: upload a video or pick a sequence, drag the box, type the
    description, watch tracking and reasoning live, download the run folder.

    Example (no weights needed): reasoningtrack demo   then open http://127.0.0.1:7860
    """
    from ..config import ConfigError
    from ..demo.config import DemoConfig

    try:
        import gradio  # noqa: F401
    except ImportError:
        fail('the demo needs Gradio: pip install -e ".[demo]"')
    try:
        backbone_options = component_options({"checkpoint": checkpoint}, backbone_opt)
        reasoner_options = component_options({"model": model, "base_url": base_url}, reasoner_opt)
        if profile is not None:
            from ..profiles import load_profile

            load_profile(profile)  # an unknown name fails here, not in the page
        data = {
            "host": host, "port": port, "share": share,
            "reasoner_options": reasoner_options, "backbone_options": backbone_options,
            "profile": profile or "", "runs_dir": str(runs) if runs else "", "reports_dir": str(reports) if reports else "",
            "data_root": data_root or "", "max_upload_mb": max_upload_mb, "max_frames": max_frames,
            "concurrency": concurrency, "lock_models": lock_models,
        }
        if backbone is not None:
            data["backbone"] = backbone
        if reasoner is not None:
            data["reasoner"] = reasoner
        config = DemoConfig.from_dict(data, where="demo options")
    except (ConfigError, *user_errors()) as exc:
        fail(str(exc))
    from ..demo.app import launch

    launch(config, block=True)
