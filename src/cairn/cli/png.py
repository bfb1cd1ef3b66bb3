"""PNG pictures of a lineage graph, drawn with Pillow from the same layout as the SVG."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from cairn.core.lineage import LineageGraph
from cairn.core.picture import PALETTE, label_at, layout, route

SCALE = 2  # drawn at twice the SVG's size, so text stays legible when zoomed


def png(graph: LineageGraph) -> bytes:
    lay = layout(graph)
    image = Image.new("RGB", (int(lay.width * SCALE), int(lay.height * SCALE)), "#ffffff")
    draw = ImageDraw.Draw(image)
    title = ImageFont.load_default(size=14 * SCALE)
    bold = ImageFont.load_default(size=12 * SCALE)
    small = ImageFont.load_default(size=10 * SCALE)
    tiny = ImageFont.load_default(size=9 * SCALE)
    draw.text((20 * SCALE, 8 * SCALE), lay.title, fill="#0f172a", font=title)
    for source, type_, target in lay.edges:
        a, b = lay.boxes.get(source), lay.boxes.get(target)
        if a is None or b is None:
            continue
        path = route(a, b)
        points = [(x * SCALE, y * SCALE) for x, y in path]
        draw.line(points, fill="#94a3b8", width=SCALE, joint="curve")
        end = points[-1]
        draw.polygon(
            [
                end,
                (end[0] - 7 * SCALE, end[1] - 4 * SCALE),
                (end[0] - 7 * SCALE, end[1] + 4 * SCALE),
            ],
            fill="#64748b",
        )
        x, y = label_at(path)
        draw.text((x * SCALE, (y - 8) * SCALE), type_, fill="#64748b", font=tiny, anchor="mm")
    for box in lay.boxes.values():
        fill, stroke = PALETTE[box.node.kind]
        corners = (
            box.x * SCALE,
            box.y * SCALE,
            (box.x + box.width) * SCALE,
            (box.y + box.height) * SCALE,
        )
        width = 3 * SCALE if box.root else SCALE
        draw.rounded_rectangle(corners, radius=6 * SCALE, fill=fill, outline=stroke, width=width)
        draw.text(
            ((box.x + 10) * SCALE, (box.y + 6) * SCALE), box.node.label, fill="#0f172a", font=bold
        )
        draw.text(
            ((box.x + 10) * SCALE, (box.y + 25) * SCALE), box.caption, fill="#475569", font=small
        )
    info = PngInfo()
    info.add_text("Title", lay.title)
    # The node list in words, for screen readers and search: a picture should not be the only
    # place its content is written.
    info.add_itxt("Description", "; ".join(f"{n.label} ({n.kind})" for n in graph.nodes))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info, optimize=True)
    return buffer.getvalue()
