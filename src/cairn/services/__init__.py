"""Use cases. Each public method is one unit of work: it validates, emits events, commits."""
