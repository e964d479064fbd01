// The transparent logo of issue 25: a red disc on a transparent background, drawn here as ImageMagick
// draws `convert -size 64x64 xc:none -fill red -draw "circle 32,32 32,10"` (radius 22 about pixel
// centre (32, 32), edge antialiased by coverage), so no test depends on ImageMagick. The colour under
// every transparent pixel is black, as `xc:none` stores it. Free of Node modules: browser pages bundle it.

export function redDisc(size = 64, centre = 32, radius = 22): { data: Uint8ClampedArray; width: number; height: number } {
  const data = new Uint8ClampedArray(size * size * 4);
  const S = 8; // coverage from S×S samples per pixel
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    let inside = 0;
    for (let sy = 0; sy < S; sy++) for (let sx = 0; sx < S; sx++) {
      const dx = x - 0.5 + (sx + 0.5) / S - centre, dy = y - 0.5 + (sy + 0.5) / S - centre;
      if (dx * dx + dy * dy <= radius * radius) inside++;
    }
    const a = Math.round((255 * inside) / (S * S));
    if (a > 0) data.set([255, 0, 0, a], (y * size + x) * 4);
  }
  return { data, width: size, height: size };
}

/** The least red of the output pixels that show at all (α > 0), and how many there are. */
export function leastRedVisible(img: { data: ArrayLike<number> }): { minR: number; visible: number } {
  let minR = 255, visible = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    if (img.data[i + 3] === 0) continue;
    visible++;
    minR = Math.min(minR, img.data[i]);
  }
  return { minR, visible };
}
