"""Any OpenAI-compatible chat-completions server: vLLM (``vllm serve``), ``transformers serve``, a
hosted API. Frames travel as base64 data URLs in the layout of the chosen prompt preset.

Settings come from the options first, then the environment: ``REASONINGTRACK_BASE_URL`` /
``OPENAI_BASE_URL``, ``REASONINGTRACK_API_KEY`` / ``OPENAI_API_KEY``, ``REASONINGTRACK_MODEL``.
Transient failures (connection refused, timeout, HTTP 429 and 5xx) are retried ``max_retries``
times with exponential backoff; then, and for any other failure, :class:`ReasonerError` is raised
(the pipeline logs it and keeps tracking with the current text).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from ..config import ConfigError
from .base import ReasonerError, ReasoningRequest
from .generation import GenerationConfig
from .images import to_data_url
from .prompted import PromptedReasoner
from .prompts import to_openai_messages

__all__ = ["OpenAIConfig", "OpenAIReasoner", "build_openai", "DEFAULT_BASE_URL"]

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


@dataclass(frozen=True)
class OpenAIConfig(GenerationConfig):
    """Options of the HTTP reasoner (CLI: ``--base-url``, ``--model``, ``--prompt``,
    ``--reasoner-opt key=value``); decoding and prompt options come from :class:`GenerationConfig`.
    Images are resized within ``min_pixels``/``max_pixels`` before sending (this also bounds the
    request size)."""

    base_url: str | None = None
    """Server root including ``/v1`` (None: $REASONINGTRACK_BASE_URL, $OPENAI_BASE_URL, else
    http://127.0.0.1:8000/v1)."""
    model: str | None = None
    """Served model name (None: $REASONINGTRACK_MODEL, else the server's only model from /v1/models).
    For ``transformers serve DIR`` it is the DIR string exactly as the server was started with."""
    api_key: str | None = None
    """None: $REASONINGTRACK_API_KEY, $OPENAI_API_KEY, else "EMPTY" (local servers ignore it)."""
    timeout: float = 60.0
    """Seconds per HTTP request."""
    max_retries: int = 2
    """Extra attempts after a transient failure."""
    backoff: float = 0.5
    """First wait between attempts in seconds, doubled each time (capped at 8 s)."""
    image_format: Literal["JPEG", "PNG"] = "JPEG"
    concurrency: int = 4
    """Requests in flight at once in ``reason_batch`` (the server batches them)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.timeout <= 0:
            raise ConfigError(f"timeout must be positive, got {self.timeout}")
        if self.max_retries < 0:
            raise ConfigError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.backoff < 0:
            raise ConfigError(f"backoff must be >= 0, got {self.backoff}")
        if self.concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {self.concurrency}")


class OpenAIReasoner(PromptedReasoner):
    """Reasoning through ``POST {base_url}/chat/completions``."""

    name = "openai"

    def __init__(self, config: OpenAIConfig | None = None):
        self.config = config or OpenAIConfig()
        try:
            import openai
        except ImportError as exc:
            raise ReasonerError(f'the openai reasoner needs the openai package: {exc} (pip install "reasoningtrack[vlm]")') from exc
        self._openai = openai
        self.base_url = self.config.base_url or _env("REASONINGTRACK_BASE_URL", "OPENAI_BASE_URL") or DEFAULT_BASE_URL
        api_key = self.config.api_key or _env("REASONINGTRACK_API_KEY", "OPENAI_API_KEY") or "EMPTY"
        self._load_prompt()
        self._model = self.config.model or _env("REASONINGTRACK_MODEL")
        self.client = openai.OpenAI(
            base_url=self.base_url, api_key=api_key, timeout=self.config.timeout, max_retries=0
        )
        self.last_usage: dict | None = None

    @property
    def model(self) -> str:
        """The served model name, asked from the server once when not configured."""
        if self._model is None:
            models = self._call(lambda: self.client.models.list(), "list models")
            try:
                names = [m.id for m in models.data]
            except (AttributeError, TypeError) as exc:
                raise ReasonerError(f"malformed /models response from {self.base_url}: {exc}") from exc
            if len(names) != 1:
                raise ReasonerError(
                    f"{self.base_url} serves {len(names)} models ({', '.join(names) or 'none'}); "
                    "choose one with --model NAME"
                )
            self._model = names[0]
        return self._model

    def _call(self, send, what: str):
        """``send()`` with retries on transient failures; every failure ends as a ReasonerError."""
        openai = self._openai
        transient = (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)
        attempts = self.config.max_retries + 1
        for attempt in range(attempts):
            try:
                return send()
            except openai.APITimeoutError as exc:  # a subclass of APIConnectionError
                error = f"no answer within {self.config.timeout:g} s ({exc})"
                retry = True
            except transient as exc:
                status = getattr(exc, "status_code", None)
                error = f"HTTP {status}: {exc}" if status else f"cannot connect ({exc})"
                retry = True
            except openai.APIStatusError as exc:
                error = f"HTTP {exc.status_code}: {exc}"
                retry = False
            except (openai.OpenAIError, ValueError) as exc:
                error = f"malformed response ({type(exc).__name__}: {exc})"
                retry = False
            if not retry or attempt == attempts - 1:
                raise ReasonerError(
                    f"{what} at {self.base_url} failed after {attempt + 1} attempt(s): {error}"
                )
            time.sleep(min(8.0, self.config.backoff * 2**attempt))
        raise AssertionError("unreachable")

    def request_body(self, request: ReasoningRequest) -> dict:
        """The JSON body sent for one request (exposed for inspection and tests)."""
        cfg = self.config
        messages = self.messages(request, (request.template, request.current))

        def encode(image) -> str:
            return to_data_url(image, fmt=cfg.image_format, min_pixels=cfg.min_pixels, max_pixels=cfg.max_pixels)

        body = {
            "model": self.model,
            "messages": to_openai_messages(messages, encode),
            "max_tokens": cfg.max_new_tokens,
            "temperature": cfg.temperature,
            "top_p": cfg.top_p,
        }
        if cfg.seed is not None:
            body["seed"] = cfg.seed
        return body

    def _complete(self, request: ReasoningRequest) -> str:
        body = self.request_body(request)
        response = self._call(lambda: self.client.chat.completions.create(**body), "chat completion")
        try:
            choice = response.choices[0]
            content = choice.message.content
        except (AttributeError, IndexError, TypeError, KeyError) as exc:
            raise ReasonerError(
                f"malformed chat completion from {self.base_url}: no choices[0].message ({exc}); got {str(response)[:200]!r}"
            ) from exc
        usage = getattr(response, "usage", None)
        self.last_usage = (
            {"prompt_tokens": getattr(usage, "prompt_tokens", None), "completion_tokens": getattr(usage, "completion_tokens", None)}
            if usage is not None
            else None
        )
        if content is not None and not isinstance(content, str):
            raise ReasonerError(f"malformed chat completion from {self.base_url}: content is {type(content).__name__}")
        return content or ""

    def generate(self, requests: list[ReasoningRequest]) -> list[str]:
        """One request in this thread; several in parallel (``concurrency`` at a time), in request order."""
        if len(requests) == 1:
            return [self._complete(requests[0])]
        _ = self.model  # resolve the name once, not in every thread
        with ThreadPoolExecutor(max_workers=min(self.config.concurrency, len(requests))) as pool:
            return list(pool.map(self._complete, requests))

    def close(self) -> None:
        self.client.close()


def build_openai(**options) -> OpenAIReasoner:
    """Registry factory: options are :class:`OpenAIConfig` fields (unknown ones are a ConfigError)."""
    return OpenAIReasoner(OpenAIConfig.from_dict(options, where="openai reasoner"))


build_openai.config_class = OpenAIConfig  # the options it takes (profiles fill only these)
