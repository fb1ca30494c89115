"""ReasoningTrack: long-term vision-language tracking with a chain-of-thought reasoner.

The package mirrors the data flow: ``sources`` and ``datasets`` produce frames and ground truth,
``trackers`` holds the frozen backbones, ``reasoning`` the reasoners that rewrite the description,
``pipeline`` runs them together, ``evaluation`` scores the results, ``training`` builds the reasoner.
"""

__version__ = "0.1.0"
