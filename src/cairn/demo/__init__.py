"""A realistic demo registry: teams, models, versions, data, runs and deployments.

import cairn
from cairn.demo import seed

summary = seed(cairn.connect("./demo"), progress=lambda what, done, total: ...)
"""

from __future__ import annotations

from cairn.demo.seed import DEMO_TODAY, DemoSummary, Progress, seed

__all__ = ["DEMO_TODAY", "DemoSummary", "Progress", "seed"]
