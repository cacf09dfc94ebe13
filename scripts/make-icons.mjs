// Renders the app's PNG icons (public/icons/) from the SVG favicon's design in headless Chromium,
// with the system's Noto Sans CJK for the Hangul. Run once after changing the design:
//   node scripts/make-icons.mjs
// The PNGs are committed: the build and the installed app need no network and no renderer.
import { chromium } from 'playwright-core';
import { writeFile } from 'node:fs/promises';

const BLUE = '#0284c7';
const FONT = "'Noto Sans CJK KR', 'Noto Sans KR', sans-serif";

// `rounded`: the favicon's rounded square on transparency. `maskable`: full-bleed colour with the
// glyph inside the safe zone (the inner 80% circle), as launchers crop maskable icons to a shape.
function svg(size, { maskable }) {
  const glyph = maskable ? 0.42 : 0.56;
  const background = maskable ? `<rect width="${size}" height="${size}" fill="${BLUE}"/>` : `<rect width="${size}" height="${size}" rx="${size * 0.22}" fill="${BLUE}"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">${background}
<text x="50%" y="50%" dominant-baseline="central" text-anchor="middle" font-size="${size * glyph}" font-weight="700" fill="#fff" font-family="${FONT}">한</text></svg>`;
}

const ICONS = [
  { file: 'icon-192.png', size: 192, maskable: false },
  { file: 'icon-512.png', size: 512, maskable: false },
  { file: 'icon-maskable-512.png', size: 512, maskable: true },
  // iOS rounds the corners itself and shows transparency as black.
  { file: 'apple-touch-icon.png', size: 180, maskable: true },
];

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  for (const icon of ICONS) {
    await page.setViewportSize({ width: icon.size, height: icon.size });
    await page.setContent(`<html><body style="margin:0;background:transparent">${svg(icon.size, icon)}</body></html>`);
    await writeFile(new URL(`../public/icons/${icon.file}`, import.meta.url), await page.screenshot({ omitBackground: true }));
    console.log(`public/icons/${icon.file}`);
  }
} finally {
  await browser.close();
}
