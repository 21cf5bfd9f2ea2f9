"""Write static/img/icon-maskable-512.png: the app icon on a full-bleed square with safe-zone padding.

A maskable icon is cut to a circle, squircle or rounded square by the phone; everything that must
show stays inside the central circle of 80 % of the width. Run from the checkout's root:
`.venv/bin/python scripts/maskable_icon.py`.
"""

from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SIZE = 512
NAVY = (23, 50, 77, 255)  # the icon's own background (static/img/icon.svg)
# The drawing reaches 0.38 of the width from the centre; scaled by this it stays within 0.4.
SCALE = 0.84


def main() -> None:
    """Scale the 512 px icon into the safe zone of a navy square and save it."""
    icon = Image.open(ROOT / "static" / "img" / "icon-512.png").convert("RGBA")
    inner = round(SIZE * SCALE)
    icon = icon.resize((inner, inner), Image.LANCZOS)
    canvas = Image.new("RGBA", (SIZE, SIZE), NAVY)
    offset = (SIZE - inner) // 2
    canvas.alpha_composite(icon, (offset, offset))
    canvas.convert("RGB").save(ROOT / "static" / "img" / "icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
