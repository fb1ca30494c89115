"""The Gradio page: pick or upload a video, drag the box, type the description, watch tracking and
reasoning live, stop at any time, download the run folder; a second tab links finished reports.

State: one :class:`DemoServer` per process holds the shared reasoners and, per browser session
(Gradio's ``session_hash``), the loaded input and the current run. Runs go through Gradio's queue
with ``concurrency`` runs at once; loading and stopping never wait behind a run.
"""

from __future__ import annotations

import re
import tempfile
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr

from ..config import ConfigError
from ..pipeline.config import POLICY_NAMES, TRIGGER_NAMES, PipelineConfig, TrackRunConfig
from .boxcanvas import BoxCanvas, box_from_value, canvas_value
from .config import DemoConfig
from .inputs import InputError, PreparedInput, list_sequences, prepare_sequence, prepare_synthetic, prepare_upload
from .jobs import DemoRun
from .models import ReasonerPool
from .render import data_url, events_html, stats_markdown, timeline_html

__all__ = ["DemoServer", "build_app", "launch", "parse_box_text", "REASONER_CHOICES"]

REASONER_CHOICES = ("heuristic", "static", "qwen", "openai", "none")
SOURCE_CHOICES = ("Upload a video", "Dataset sequence", "Synthetic world")
_SESSION = re.compile(r"[^A-Za-z0-9_-]+")
_LIVE_MAX_SIDE = 960


def parse_box_text(text: str) -> list[float]:
    """``"x,y,w,h"`` (commas or spaces) as four floats with a positive size."""
    parts = [p for p in str(text or "").replace(",", " ").split() if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"box {text!r}: expected four numbers x,y,w,h") from None
    if len(values) != 4:
        raise InputError("no box yet: drag one on the first frame (or type x,y,w,h)" if not parts else
                         f"box {text!r}: expected four numbers x,y,w,h, got {len(values)}")
    if values[2] <= 0 or values[3] <= 0:
        raise InputError(f"box {text!r}: width and height must be positive")
    return values


def _box_text(box) -> str:
    return "" if box is None else ",".join(f"{v:g}" for v in box)


def _error(message: str) -> str:
    return f"**error:** {message}"


@dataclass
class Session:
    """One browser tab: its folder, the input it loaded, its current run."""

    folder: Path
    input: PreparedInput | None = None
    run: DemoRun | None = None
    runs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class DemoServer:
    """Everything shared by the sessions of one demo process."""

    def __init__(self, config: DemoConfig):
        self.config = config
        root = config.runs_dir or tempfile.mkdtemp(prefix="reasoningtrack-demo-")
        self.runs_dir = Path(root).expanduser().resolve()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.reports_dir = Path(config.reports_dir).expanduser().resolve() if config.reports_dir else None
        self.pool = ReasonerPool()
        self.models_locked = config.lock_models or config.exposed
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._synthetic_lock = threading.Lock()
        self.runs: list[DemoRun] = []
        """Every run this process started, oldest first."""

    # -- sessions -----------------------------------------------------------------------------
    @staticmethod
    def _key(request: gr.Request | None) -> str:
        """The session's folder name: Gradio's session hash, reduced to safe characters."""
        return _SESSION.sub("_", str(getattr(request, "session_hash", None) or "default"))[:64] or "default"

    def session(self, request: gr.Request | None) -> Session:
        key = self._key(request)
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = Session(self.runs_dir / key)
            return self._sessions[key]

    def end_session(self, request: gr.Request) -> None:
        """The tab closed: stop its run (its files stay in the runs folder)."""
        with self._lock:
            session = self._sessions.pop(self._key(request), None)
        if session is not None and session.run is not None:
            session.run.stop()

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            if session.run is not None:
                session.run.stop()
                session.run.wait(30)
        self.pool.close()

    # -- inputs -------------------------------------------------------------------------------
    def _loaded(self, session: Session, prepared: PreparedInput):
        session.input = prepared
        width, height = prepared.size
        frames = f"{prepared.frame_count} frames" if prepared.frame_count else "frame count unknown"
        fps = f", {prepared.fps:.1f} fps" if prepared.fps else ""
        status = f"loaded **{prepared.label}**: {width}x{height}, {frames}{fps}. Drag a box over the target."
        value = canvas_value(data_url(prepared.first_frame), width, height, prepared.box)
        return value, _box_text(prepared.box), prepared.text, status

    def _failed(self, session: Session, message: str):
        session.input = None
        return None, "", gr.skip(), _error(message)

    def load_upload(self, upload, request: gr.Request):
        session = self.session(request)
        if not upload:
            return self._failed(session, "no file received")
        path = upload if isinstance(upload, str) else getattr(upload, "name", None) or upload.get("path")
        try:
            with session.lock:
                prepared = prepare_upload(path, session.folder / "inputs", max_bytes=int(self.config.max_upload_mb * 2**20),
                                          max_frames=self.config.max_frames)
        except InputError as exc:
            return self._failed(session, str(exc))
        return self._loaded(session, prepared)

    def load_upload_and_clear(self, upload, request: gr.Request):
        """:meth:`load_upload`, then an empty upload widget (the file now lives in the session's folder)."""
        return (*self.load_upload(upload, request), None)

    def _root(self, root: str) -> str:
        """The dataset root to read: the visitor's, or on an exposed server only ``--data-root``
        (visitors must not browse the server's folders)."""
        if not self.config.exposed:
            return root
        if not self.config.data_root:
            raise InputError("this server offers no datasets (start it with --data-root DIR)")
        return self.config.data_root

    def list_dataset(self, dataset: str, root: str):
        try:
            root = self._root(root)
            names = list_sequences(dataset, root)
        except InputError as exc:
            return gr.update(choices=[], value=None), _error(str(exc))
        return gr.update(choices=names, value=names[0] if names else None), f"{len(names)} sequences in {dataset} at {root}"

    def load_sequence(self, dataset: str, root: str, name: str, request: gr.Request):
        session = self.session(request)
        if not name:
            return self._failed(session, "choose a sequence (list the dataset first)")
        try:
            prepared = prepare_sequence(dataset, self._root(root), name, max_frames=self.config.max_frames)
        except InputError as exc:
            return self._failed(session, str(exc))
        return self._loaded(session, prepared)

    def load_synthetic(self, seed, request: gr.Request):
        session = self.session(request)
        try:
            with self._synthetic_lock:  # shared by all sessions: a seed is generated once per process
                prepared = prepare_synthetic(int(seed or 0), self.runs_dir / ".synthetic", frames=self.config.synthetic_frames)
        except (InputError, ValueError, TypeError) as exc:
            return self._failed(session, str(exc))
        return self._loaded(session, prepared)

    @staticmethod
    def canvas_to_text(value) -> str:
        try:
            return _box_text(box_from_value(value))
        except ValueError:
            return ""

    @staticmethod
    def text_to_canvas(text: str, value):
        if not isinstance(value, dict) or not value.get("image"):
            return gr.skip(), _error("load a video first")
        try:
            box = parse_box_text(text)
            box_from_value({**value, "box": box})
        except (InputError, ValueError) as exc:
            return gr.skip(), _error(str(exc))
        return {**value, "box": box}, f"box set to {_box_text(box)}"

    # -- options ------------------------------------------------------------------------------
    def profile_defaults(self, profile: str):
        """The schedule/policy/mode widgets as the profile sets them (the visitor may change them)."""
        from ..config import deep_merge
        from ..profiles import load_profile

        try:
            section = load_profile(profile or None)["pipeline"]
            pipeline = PipelineConfig.from_dict(deep_merge(PipelineConfig().to_dict(), section))
        except ConfigError as exc:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), _error(str(exc))
        return (pipeline.schedule.triggers, pipeline.schedule.interval.every, pipeline.policy.kind, pipeline.mode,
                f"profile **{profile}**: schedule, interval, policy and mode set to its values")

    def run_config(self, prepared: PreparedInput, box, text, backbone, reasoner, model, base_url, triggers, interval,
                   policy, mode, profile) -> TrackRunConfig:
        """The run's config, built as ``reasoningtrack track`` builds it from the same choices."""
        from ..pipeline.session import absolute_paths
        from ..profiles import apply_profile

        cfg = self.config
        backbone = (backbone or cfg.backbone).strip()
        reasoner = (reasoner or cfg.reasoner).strip()
        backbone_options = dict(cfg.backbone_options) if backbone == cfg.backbone else {}
        reasoner_options = dict(cfg.reasoner_options) if reasoner == cfg.reasoner else {}
        if not self.models_locked:
            if model and str(model).strip() and reasoner in ("qwen", "openai"):
                reasoner_options["model"] = str(model).strip()
            if base_url and str(base_url).strip() and reasoner == "openai":
                reasoner_options["base_url"] = str(base_url).strip()
        data = {
            "input": prepared.path,
            "box": [float(v) for v in box],
            "text": str(text or "").strip(),
            "backbone": backbone,
            "backbone_options": backbone_options,
            "reasoner": reasoner,
            "reasoner_options": reasoner_options,
            "pipeline": {
                "schedule": {"triggers": list(triggers or []) or ["none"], "interval": {"every": int(interval or 100)}},
                "policy": {"kind": policy or "initial"},
                "mode": mode or "sync",
            },
        }
        for key in ("backbone_options", "reasoner_options"):  # as `track` saves them: the same files from anywhere
            data[key] = absolute_paths(data[key])
        # the profile fills what the page leaves out (motion gate, template, failure rule, the VLM's
        # prompt and parser), exactly as `track --profile` does
        resolved = apply_profile(data, profile or cfg.profile or None, default_reasoner=TrackRunConfig().reasoner)
        return TrackRunConfig.from_dict(resolved, where="demo run")

    # -- runs ---------------------------------------------------------------------------------
    def run(self, box_text, text, backbone, reasoner, model, base_url, triggers, interval, policy, mode, profile,
            request: gr.Request):
        """Generator: the page's live outputs (frame, stats, timeline, events, zip, status)."""
        session = self.session(request)
        skip = gr.skip()
        if session.run is not None and not session.run.done:
            yield skip, skip, skip, skip, skip, _error("a run is already going in this tab; stop it first")
            return
        prepared = session.input
        if prepared is None:
            yield skip, skip, skip, skip, None, _error("load a video, a dataset sequence or the synthetic world first")
            return
        width, height = prepared.size
        reasoner_name = str(reasoner or self.config.reasoner)
        try:
            box = parse_box_text(box_text)
            box_from_value({"box": box, "width": width, "height": height})
            config = self.run_config(prepared, box, text, backbone, reasoner, model, base_url, triggers, interval,
                                     policy, mode, profile)
            shared = None
            if config.reasoner.lower() != "none":
                shared = self.pool.client(config.reasoner, config.reasoner_options)
        except (InputError, ValueError) as exc:  # ConfigError, ReasonerError, RegistryError are ValueErrors
            yield skip, skip, skip, skip, None, _error(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 -- e.g. a model that fails to load: say so in the page
            yield skip, skip, skip, skip, None, _error(f"cannot build the reasoner {reasoner_name!r}: {type(exc).__name__}: {exc}")
            return
        with session.lock:
            session.runs += 1
            folder = session.folder / f"run-{session.runs:03d}"
        run = DemoRun(config, folder, total=prepared.frame_count, shared_reasoner=shared,
                      max_frames=self.config.max_frames).start()
        session.run = run
        with self._lock:
            self.runs.append(run)
        yield from self._stream(run, prepared)

    def _stream(self, run: DemoRun, prepared: PreparedInput):
        skip = gr.skip()
        period = 1.0 / self.config.stream_fps
        seen_version, seen_events = -1, -1
        total = prepared.frame_count
        while True:
            finished = run.wait(period)
            snap = run.snapshot()
            if snap.version == seen_version and not finished:
                continue
            seen_version = snap.version
            live = _live_html(snap.image) if snap.image is not None else skip
            events = skip
            if len(snap.events) != seen_events or finished:
                seen_events = len(snap.events)
                events = events_html(snap.events, snap.thumbs)
            timeline = timeline_html(snap.events, total, max(snap.index, 0))
            if not finished:
                stats = stats_markdown(max(snap.index, 0), total, snap.fps, snap.text, len(snap.events), "tracking")
                yield live, stats, timeline, events, skip, "tracking… (Stop ends the run here; its files stay)"
                continue
            if snap.error is not None:
                stats = stats_markdown(max(snap.index, 0), total, snap.fps, snap.text, len(snap.events), "failed")
                yield live, stats, timeline, events, None, _error(snap.error)
                return
            summary = run.outputs.summary
            state = "stopped" if snap.stopped else "done"
            note = ""
            if snap.stopped:
                note = (f" Stopped after frame {snap.index + 1}" + (f" of {total}" if total else "")
                        + (f" (this server's limit of {self.config.max_frames} frames)" if run.capped else "") + ": the files hold the frames tracked so far.")
            stats = stats_markdown(max(snap.index, 0), total, summary.fps, snap.text, len(snap.events), state)
            status = f"**{state}:** {summary.describe()}.{note} Download the run folder below."
            yield live, stats, timeline, events, str(run.zip_path), status
            return

    def stop(self, request: gr.Request) -> str:
        session = self.session(request)
        if session.run is None or session.run.done:
            return "nothing is running"
        session.run.stop()
        return "stopping after the current frame…"

    # -- reports ------------------------------------------------------------------------------
    def reports_html(self) -> str:
        from html import escape

        if self.reports_dir is None:
            return ("<p>Start the demo with <code>--reports DIR</code> to list the HTML reports of the benchmarks and "
                    "experiments under DIR (<code>reasoningtrack benchmark</code> / <code>experiment</code> write "
                    "<code>report.html</code>).</p>")
        if not self.reports_dir.is_dir():
            return f"<p>{escape(str(self.reports_dir))} does not exist.</p>"
        import time

        from ..reports import find_reports

        found = [Path(p).resolve() for p in find_reports(self.reports_dir)]
        if not found:
            return f"<p>No report.html under {escape(str(self.reports_dir))} yet.</p>"
        rows = "".join(
            f'<li><a href="/gradio_api/file={escape(str(p))}" target="_blank" rel="noopener">'
            f"{escape(str(p.parent.relative_to(self.reports_dir)) if p.is_relative_to(self.reports_dir) else str(p))}</a>"
            f" <small>({time.strftime('%Y-%m-%d %H:%M', time.localtime(p.stat().st_mtime))})</small></li>"
            for p in found
        )
        return f'<ul class="rt-reports">{rows}</ul>'

    def allowed_paths(self) -> list[str]:
        """What Gradio may serve besides its own cache: the runs folder, and the reports folder."""
        return [str(self.runs_dir)] + ([str(self.reports_dir)] if self.reports_dir is not None else [])


def _live_html(image) -> str:
    import cv2

    h, w = image.shape[:2]
    scale = _LIVE_MAX_SIDE / max(h, w)
    if scale < 1:
        image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return f'<img class="rt-live" src="{data_url(image)}" alt="tracking" style="width:100%;height:auto"/>'


def build_app(server: DemoServer) -> gr.Blocks:
    """The page, wired to ``server``'s handlers (API names: load_upload, load_sequence,
    load_synthetic, run, stop, for gradio_client)."""
    from ..profiles import DEFAULT_PROFILE, PROFILES
    from ..sources import VIDEO_EXTENSIONS
    from ..trackers import BACKBONES

    cfg = server.config
    defaults = PipelineConfig()
    profile = cfg.profile or DEFAULT_PROFILE
    # Gradio's own cache (uploads before they are copied, zips being downloaded): swept hourly of
    # files older than a day (our choice), so a long-running server does not fill its disk
    with gr.Blocks(title="ReasoningTrack demo", analytics_enabled=False, delete_cache=(3600, 86400)) as blocks:
        gr.Markdown("## ReasoningTrack — a tracker that reasons about how its target changed")
        with gr.Tab("Track"):
            with gr.Row():
                with gr.Column(scale=4):
                    source = gr.Radio(list(SOURCE_CHOICES), value=SOURCE_CHOICES[0], label="Input", elem_id="rt-source")
                    with gr.Group(visible=True) as upload_group:
                        upload = gr.File(label=f"Video (at most {cfg.max_upload_mb:g} MB, {cfg.max_frames} frames)",
                                         file_types=sorted(VIDEO_EXTENSIONS), type="filepath", elem_id="rt-upload")
                    with gr.Group(visible=False) as dataset_group:
                        with gr.Row():
                            dataset = gr.Dropdown(["folder", "otb-lang", "lasot", "lasot-ext", "tnl2k", "tnllt", "got10k", "synthetic"],
                                                  value="folder", label="Dataset", allow_custom_value=True)
                            root = gr.Textbox(value=cfg.data_root, label="Root folder on this server", interactive=not cfg.exposed)
                        list_button = gr.Button("List sequences", size="sm")
                        sequence = gr.Dropdown([], label="Sequence", allow_custom_value=False)
                        sequence_button = gr.Button("Load sequence", size="sm")
                    with gr.Group(visible=False) as synth_group:
                        seed = gr.Number(value=0, precision=0, label="Seed")
                        synth_button = gr.Button("Generate", size="sm", elem_id="rt-synth")
                    status = gr.Markdown("Upload a video, pick a dataset sequence or generate the synthetic world.", elem_id="rt-status")
                    canvas = BoxCanvas(placeholder="the first frame appears here", elem_id="rt-canvas")
                    box_text = gr.Textbox(label="Box x,y,w,h (drag on the frame, or type and press Enter)", elem_id="rt-box")
                    text = gr.Textbox(label="Description of the target", lines=2, elem_id="rt-text")
                    with gr.Accordion("Options", open=False):
                        backbone = gr.Dropdown(BACKBONES.names(), value=cfg.backbone, label="Backbone", allow_custom_value=True, elem_id="rt-backbone")
                        reasoner = gr.Dropdown(list(REASONER_CHOICES), value=cfg.reasoner, label="Reasoner", elem_id="rt-reasoner")
                        model = gr.Textbox(value=str(cfg.reasoner_options.get("model", "")), label="Model (qwen: hub id or folder; openai: served name)",
                                           interactive=not server.models_locked)
                        base_url = gr.Textbox(value=str(cfg.reasoner_options.get("base_url", "")), label="Server URL (openai)",
                                              interactive=not server.models_locked)
                        triggers = gr.CheckboxGroup(list(TRIGGER_NAMES), value=list(defaults.schedule.triggers), label="Reason when", elem_id="rt-triggers")
                        interval = gr.Number(value=defaults.schedule.interval.every, precision=0, minimum=1, label="Interval (frames; paper: 100)", elem_id="rt-interval")
                        policy = gr.Dropdown(list(POLICY_NAMES), value=defaults.policy.kind, label="Text policy")
                        mode = gr.Radio(["sync", "async"], value=defaults.mode, label="Reasoning")
                        profile_box = gr.Dropdown(list(PROFILES), value=profile, label="Profile")
                    with gr.Row():
                        run_button = gr.Button("Run", variant="primary", elem_id="rt-run")
                        stop_button = gr.Button("Stop", variant="stop", elem_id="rt-stop")
                with gr.Column(scale=5):
                    live = gr.HTML("<p>the tracked video appears here</p>", elem_id="rt-live")
                    stats = gr.Markdown("", elem_id="rt-stats")
                    timeline = gr.HTML(timeline_html([], None, 0), elem_id="rt-timeline")
                    download = gr.File(label="Run folder (boxes.txt, reasoning.jsonl, config.yaml, video.mp4)", elem_id="rt-download", interactive=False)
                with gr.Column(scale=3):
                    gr.Markdown("### Reasoning")
                    events = gr.HTML(events_html([], {}), elem_id="rt-events", max_height=900)
        with gr.Tab("Reports") as reports_tab:
            reports = gr.HTML(server.reports_html(), elem_id="rt-reports")
            refresh = gr.Button("Refresh", size="sm")

        loaded = [canvas, box_text, text, status]
        source.change(lambda s: (gr.update(visible=s == SOURCE_CHOICES[0]), gr.update(visible=s == SOURCE_CHOICES[1]),
                                 gr.update(visible=s == SOURCE_CHOICES[2])),
                      inputs=source, outputs=[upload_group, dataset_group, synth_group], api_name=False)
        # the upload is copied into the session's folder; clearing the widget lets the next one in
        upload.upload(server.load_upload_and_clear, inputs=upload, outputs=[*loaded, upload], api_name="load_upload")
        list_button.click(server.list_dataset, inputs=[dataset, root], outputs=[sequence, status], api_name="list_sequences")
        sequence_button.click(server.load_sequence, inputs=[dataset, root, sequence], outputs=loaded, api_name="load_sequence")
        synth_button.click(server.load_synthetic, inputs=seed, outputs=loaded, api_name="load_synthetic")
        canvas.change(server.canvas_to_text, inputs=canvas, outputs=box_text, api_name=False, show_progress="hidden")
        box_text.submit(server.text_to_canvas, inputs=[box_text, canvas], outputs=[canvas, status], api_name=False)
        profile_box.input(server.profile_defaults, inputs=profile_box, outputs=[triggers, interval, policy, mode, status], api_name=False)
        run_button.click(
            server.run,
            inputs=[box_text, text, backbone, reasoner, model, base_url, triggers, interval, policy, mode, profile_box],
            outputs=[live, stats, timeline, events, download, status],
            api_name="run", concurrency_limit=cfg.concurrency, concurrency_id="tracking-runs", show_progress="hidden",
        )
        stop_button.click(server.stop, outputs=status, api_name="stop", concurrency_limit=None)
        refresh.click(server.reports_html, outputs=reports, api_name=False)
        reports_tab.select(server.reports_html, outputs=reports, api_name=False)  # reports finished since the page loaded
        blocks.unload(server.end_session)
    return blocks


def exposure_warning(config: DemoConfig) -> str | None:
    """The warning printed when the demo is reachable from other machines."""
    if not config.exposed:
        return None
    where = "through a public share link" if config.share else f"on {config.host} (not a loopback address)"
    return (f"the demo is reachable {where}: anyone who can reach it can upload videos and run the tracker on this "
            f"machine; model paths and server URLs are fixed to the command line's")


def launch(config: DemoConfig, *, block: bool = True):
    """Start the server. ``block=False`` returns ``(server, blocks, url)`` with the server running
    in a thread (tests); stop it with ``blocks.close(); server.close()``."""
    warning = exposure_warning(config)
    if warning:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    server = DemoServer(config)
    blocks = build_app(server)
    blocks.queue(default_concurrency_limit=max(4, config.concurrency))
    try:
        _, local_url, _ = blocks.launch(
            server_name=config.host,
            server_port=config.port or None,
            share=config.share,
            allowed_paths=server.allowed_paths(),
            max_file_size=int(config.max_upload_mb * 2**20),
            prevent_thread_lock=True,
            show_error=True,
            quiet=not block,
        )
    except BaseException:
        server.close()
        raise
    if not block:
        return server, blocks, local_url
    try:
        blocks.block_thread()
    finally:
        server.close()
    return server, blocks, local_url
