"""Pictures of a lineage graph: a layered layout, left to right from data to deployment, drawn
as SVG, Graphviz DOT or Mermaid text (PNG is drawn from the same layout by the CLI).

No Graphviz needed: the layout is the classic layered one, small enough to own. Each node's
column is the longest chain of edges leading to it (so every edge points right), cycles are
broken by ignoring the edges that close them, and within a column nodes are ordered by the
mean row of their neighbours in the previous column, which untangles most crossings.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from html import escape

from cairn.core.lineage import LineageGraph, LineageNode, NodeKind

#: Fill and stroke per kind: data blue, work amber, models green, serving violet.
PALETTE: dict[NodeKind, tuple[str, str]] = {
    NodeKind.DATASET_VERSION: ("#dbeafe", "#1d4ed8"),
    NodeKind.OL_DATASET: ("#e0f2fe", "#0369a1"),
    NodeKind.FEATURE_VIEW_VERSION: ("#cffafe", "#0e7490"),
    NodeKind.RUN: ("#fef3c7", "#b45309"),
    NodeKind.OL_RUN: ("#fef3c7", "#b45309"),
    NodeKind.OL_JOB: ("#ffedd5", "#c2410c"),
    NodeKind.CODE: ("#f5f5f4", "#57534e"),
    NodeKind.MODEL_VERSION: ("#dcfce7", "#15803d"),
    NodeKind.EVALUATION: ("#ecfccb", "#4d7c0f"),
    NodeKind.DEPLOYMENT: ("#ede9fe", "#6d28d9"),
    NodeKind.ENVIRONMENT: ("#fae8ff", "#a21caf"),
}
CHAR_WIDTH = 7.2  # of 12 px sans-serif text, near enough to size a box
BOX_HEIGHT = 44
ROW_GAP = 22
COLUMN_GAP = 90
MARGIN = 20


@dataclass(frozen=True, slots=True)
class Box:
    node: LineageNode
    x: float
    y: float
    width: float
    height: float
    root: bool

    @property
    def caption(self) -> str:
        """The second line: what the node is, and whose."""
        return f"{self.node.kind}" + (f" · {self.node.team}" if self.node.team else "")


@dataclass(frozen=True, slots=True)
class Layout:
    boxes: dict[str, Box]
    edges: list[tuple[str, str, str]]
    width: float
    height: float
    title: str


def _columns(graph: LineageGraph) -> dict[str, int]:
    ids = [n.id for n in graph.nodes]
    successors: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges:
        successors[edge.source].append(edge.target)
    # Depth-first order, skipping edges that close a cycle, then longest paths along it.
    order: list[str] = []
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for start in ids:
        if start in state:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, i = stack.pop()
            nexts = successors[node]
            if i < len(nexts):
                stack.append((node, i + 1))
                child = nexts[i]
                if state.get(child) == 1:
                    back.add((node, child))
                elif child not in state:
                    state[child] = 1
                    stack.append((child, 0))
            else:
                state[node] = 2
                order.append(node)
    column = dict.fromkeys(ids, 0)
    for node in reversed(order):
        for child in successors[node]:
            if (node, child) not in back:
                column[child] = max(column[child], column[node] + 1)
    # A source (code, an environment) sits just left of what it feeds, not at the far left.
    has_parent = {e.target for e in graph.edges if (e.source, e.target) not in back}
    for node in ids:
        children = [column[c] for c in successors[node] if (node, c) not in back]
        if node not in has_parent and children:
            column[node] = max(column[node], min(children) - 1)
    return column


def layout(graph: LineageGraph) -> Layout:
    column = _columns(graph)
    by_id = {n.id: n for n in graph.nodes}
    groups: dict[int, list[str]] = defaultdict(list)
    for node_id in sorted(column, key=lambda i: (column[i], by_id[i].kind, by_id[i].label)):
        groups[column[node_id]].append(node_id)
    predecessors: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges:
        predecessors[edge.target].append(edge.source)
    row: dict[str, float] = {}
    for c in sorted(groups):
        members = groups[c]
        if c > 0:

            def weight(node_id: str) -> float:
                rows = [row[p] for p in predecessors[node_id] if p in row]
                return sum(rows) / len(rows) if rows else float("inf")

            members.sort(key=weight)
        for i, node_id in enumerate(members):
            row[node_id] = i
    boxes: dict[str, Box] = {}
    x: float = MARGIN
    tallest = max((len(m) for m in groups.values()), default=1)
    for c in sorted(groups):
        members = groups[c]
        width = max(_width(by_id[i]) for i in members)
        for i, node_id in enumerate(members):
            # Rows line up across columns, so the gaps between them are free lanes for edges
            # that skip a column.
            y = MARGIN + 24 + i * (BOX_HEIGHT + ROW_GAP)
            boxes[node_id] = Box(by_id[node_id], x, y, width, BOX_HEIGHT, node_id == graph.root)
        x += width + COLUMN_GAP
    height = MARGIN * 2 + 24 + tallest * (BOX_HEIGHT + ROW_GAP) - ROW_GAP
    edges = [(e.source, e.type.value, e.target) for e in graph.edges]
    title = f"lineage of {graph.root}" + (" (partial)" if graph.partial else "")
    return Layout(boxes, edges, max(x - COLUMN_GAP + MARGIN, 320), height, title)


def route(a: Box, b: Box) -> list[tuple[float, float]]:
    """The polyline of an edge from ``a`` to ``b``: straight across to the next column; over a
    skipped column through the free lane above the source's row; back under, for a cycle."""
    start = (a.x + a.width, a.y + a.height / 2)
    end = (b.x, b.y + b.height / 2)
    if end[0] <= start[0]:
        below = max(a.y, b.y) + BOX_HEIGHT + ROW_GAP / 2
        return [
            start,
            (start[0] + 12, start[1]),
            (start[0] + 12, below),
            (end[0] - 12, below),
            (end[0] - 12, end[1]),
            end,
        ]
    if end[0] - start[0] <= COLUMN_GAP + 1:
        middle = (start[0] + end[0]) / 2
        return [start, (middle, start[1]), (middle, end[1]), end]
    lane = a.y - ROW_GAP / 2
    turn_in = end[0] - COLUMN_GAP / 2
    return [
        start,
        (start[0] + 12, start[1]),
        (start[0] + 12, lane),
        (turn_in, lane),
        (turn_in, end[1]),
        end,
    ]


def label_at(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Where an edge's type is written: over its longest horizontal stretch."""
    pairs = itertools.pairwise(points)
    (x1, y), (x2, _) = max(
        ((p, q) for p, q in pairs if p[1] == q[1]), key=lambda pq: abs(pq[1][0] - pq[0][0])
    )
    return (x1 + x2) / 2, y - 4


def _width(node: LineageNode) -> float:
    longest = max(len(node.label), len(str(node.kind)) + len(node.team or "") + 3)
    return max(110.0, longest * CHAR_WIDTH + 24)


def svg(graph: LineageGraph) -> str:
    """A self-contained SVG document (labels escaped: names come from users)."""
    lay = layout(graph)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:.0f}" '
        f'height="{lay.height:.0f}" viewBox="0 0 {lay.width:.0f} {lay.height:.0f}" '
        'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">',
        f"<title>{escape(lay.title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#64748b"/></marker></defs>',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 4}" font-size="14" font-weight="bold" '
        f'fill="#0f172a">{escape(lay.title)}</text>',
    ]
    for source, type_, target in lay.edges:
        a, b = lay.boxes.get(source), lay.boxes.get(target)
        if a is None or b is None:
            continue
        points = route(a, b)
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(
            f'<polyline class="edge" data-type="{type_}" points="{line}" fill="none" '
            'stroke="#94a3b8" stroke-width="1.4" stroke-linejoin="round" '
            'marker-end="url(#arrow)"/>'
        )
        x, y = label_at(points)
        parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="9" fill="#64748b" '
            f'text-anchor="middle">{escape(type_)}</text>'
        )
    for box in lay.boxes.values():
        fill, stroke = PALETTE[box.node.kind]
        width = 2.5 if box.root else 1.2
        parts.append(
            f'<g class="node" data-id="{escape(box.node.id)}" data-kind="{box.node.kind}">'
            f"<title>{escape(box.node.id)}</title>"
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
            f'height="{box.height}" rx="6" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{width}"/>'
            f'<text x="{box.x + 10:.1f}" y="{box.y + 18:.1f}" font-weight="bold" '
            f'fill="#0f172a">{escape(box.node.label)}</text>'
            f'<text x="{box.x + 10:.1f}" y="{box.y + 34:.1f}" font-size="10" '
            f'fill="#475569">{escape(box.caption)}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(graph: LineageGraph) -> str:
    """Graphviz DOT, for those who have Graphviz and want its layout."""
    lines = [
        "digraph lineage {",
        "  rankdir=LR;",
        f"  label={_quoted(layout(graph).title)}; labelloc=t;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
    ]
    for node in graph.nodes:
        fill, stroke = PALETTE[node.kind]
        caption = f"{node.kind}" + (f" · {node.team}" if node.team else "")
        pen = ", penwidth=2.5" if node.id == graph.root else ""
        lines.append(
            f"  {_quoted(node.id)} [label={_quoted(node.label + chr(10) + caption)}, "
            f'fillcolor="{fill}", color="{stroke}"{pen}];'
        )
    for edge in graph.edges:
        lines.append(
            f"  {_quoted(edge.source)} -> {_quoted(edge.target)} [label={_quoted(edge.type)}, "
            'fontsize=9, color="#94a3b8"];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    # Mermaid labels are quoted strings; a quote or markup would end or inject one.
    return escape(text, quote=True).replace("#", "#35;")


def mermaid(graph: LineageGraph) -> str:
    """A Mermaid flowchart: renders in GitHub and GitLab Markdown as it is."""
    ids = {node.id: f"n{i}" for i, node in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for node in graph.nodes:
        caption = f"{node.kind}" + (f" · {node.team}" if node.team else "")
        lines.append(
            f'  {ids[node.id]}["{_mermaid_text(node.label)}<br/><small>'
            f'{_mermaid_text(caption)}</small>"]:::{node.kind.name.lower()}'
        )
    for edge in graph.edges:
        if edge.source in ids and edge.target in ids:
            lines.append(f"  {ids[edge.source]} -->|{edge.type}| {ids[edge.target]}")
    for kind, (fill, stroke) in PALETTE.items():
        lines.append(f"  classDef {kind.name.lower()} fill:{fill},stroke:{stroke}")
    return "\n".join(lines) + "\n"
