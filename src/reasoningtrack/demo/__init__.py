"""The interactive web demo (``reasoningtrack demo``; the ``[demo]`` extra installs Gradio).

An application layer: it uses the pipeline, sources, datasets, backbones and reasoners; nothing
in the package imports it. See docs/demo.md.
"""

from .config import DemoConfig, is_loopback

__all__ = ["DemoConfig", "is_loopback"]
