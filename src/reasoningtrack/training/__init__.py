"""Training the reasoner: samples, teacher chain-of-thought, rewards, SFT and GRPO (TRL + PEFT).

Modules (imported on use, so that importing the package stays light):
``config`` (typed configs), ``labels`` (the one-step backbone IoU rule), ``samples`` (frame pairs
-> resumable ``datasets`` shards), ``teacher`` (teacher CoT, strict filter, IoU(new) labels),
``llamafactory`` (the release's alpaca JSON), ``conversations`` (rows -> TRL chat format, the
reasoner's own message layout), ``rewards`` (format / strict / IoU / judge), ``sft``, ``grpo``,
``modeling`` (precision, LoRA, saving), ``evaluate``, ``toy`` (a world with knowable answers),
``configs`` (shipped YAML and accelerate files). See docs/training.md.
"""
