"""Built-in prompt presets: YAML templates (and the release system prompt, byte for byte)."""
