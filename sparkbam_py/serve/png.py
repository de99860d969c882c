"""Coverage drawn as a PNG (Pillow): plus-strand tracks up, minus-strand tracks down from a
shared baseline, one colour per track, and an axis with positions along the bottom."""
from __future__ import annotations

import io
from functools import lru_cache
from typing import Dict, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

AXIS_HEIGHT = 18
TICK_TARGET_PIXELS = 100
BACKGROUND = (255, 255, 255)
AXIS_COLOUR = (60, 60, 60)
# zlib level 1: a plot of flat colours compresses nearly as well, several times faster.
PNG_COMPRESS_LEVEL = 1
# A colour-blind-safe palette (Okabe & Ito), cycled when there are more tracks.
PALETTE = [(0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167), (230, 159, 0), (86, 180, 233),
           (240, 228, 66), (0, 0, 0)]


def track_colour(index: int) -> tuple:
    return PALETTE[index % len(PALETTE)]


def nice_step(span: float, target: int) -> int:
    """A 1-2-5 step giving about ``target`` ticks over ``span`` bases."""
    raw = max(span / max(target, 1), 1.0)
    magnitude = 10 ** int(np.floor(np.log10(raw)))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return int(factor * magnitude)
    return int(10 * magnitude)


@lru_cache(maxsize=1)
def axis_font():
    """Pillow's built-in font, loaded once per process."""
    return ImageFont.load_default()


def render_png(means: np.ndarray, track_names: Sequence[str], strands: Dict[str, str],
               start: int, end: int, width: int, height: int) -> bytes:
    """``means`` (columns x tracks) drawn ``width`` x ``height``; ``strands`` maps a track to '+'/'-'."""
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    plot_height = height - AXIS_HEIGHT
    has_minus = any(strands.get(name) == "-" for name in track_names)
    baseline = plot_height // 2 if has_minus else plot_height - 1
    reach = baseline if has_minus else plot_height - 1
    scale = float(means.max()) if means.size and means.max() > 0 else 1.0
    columns = np.arange(means.shape[0])
    x = columns * (width / means.shape[0])
    for index, name in enumerate(track_names):
        direction = 1 if strands.get(name) == "-" else -1
        y = baseline + direction * np.round(means[:, index] / scale * reach)
        # A step line: across each column at its value, then down/up to the next one's.
        xs = np.append(np.repeat(x, 2)[1:], width - 1)
        ys = np.repeat(y, 2)
        draw.line(np.column_stack([xs, ys]).ravel().tolist(), fill=track_colour(index), width=1)
    draw.line([(0, baseline), (width - 1, baseline)], fill=AXIS_COLOUR)
    _draw_axis(draw, start, end, width, plot_height)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


def _draw_axis(draw: ImageDraw.ImageDraw, start: int, end: int, width: int, top: int) -> None:
    draw.line([(0, top), (width - 1, top)], fill=AXIS_COLOUR)
    step = nice_step(end - start, max(1, width // TICK_TARGET_PIXELS))
    first = -(-start // step) * step
    for position in range(first, end, step):
        x = (position - start) * width / (end - start)
        draw.line([(x, top), (x, top + 4)], fill=AXIS_COLOUR)
        draw.text((x + 2, top + 4), f"{position:,}", fill=AXIS_COLOUR, font=axis_font())
