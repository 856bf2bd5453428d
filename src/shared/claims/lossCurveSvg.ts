/**
 * The NFT image: a self-contained SVG of a model's loss curve (train and validation loss by step), written
 * by hand (no dependency, no script, no external reference), deterministic for the same input so that the
 * same model always gets the same image CID.
 */
export interface LossCurveInput {
  title: string;
  subtitle?: string;
  points: { step: number; train: number | null; val: number | null }[];
  /** A headline figure in the corner, e.g. "1.9342 bits/byte". */
  badge?: string;
}

const W = 600;
const H = 400;
const PAD = { left: 56, right: 20, top: 64, bottom: 44 };

function esc(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function num(n: number): string {
  // Fixed precision keeps the file byte-identical across runs and platforms.
  return (Math.round(n * 100) / 100).toFixed(2).replace(/\.?0+$/, '') || '0';
}

/** "Nice" tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Math.round(v / step) * step);
  return out;
}

function label(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return `${num(v / 1000)}k`;
  return Number.isInteger(v) ? String(v) : v.toPrecision(3).replace(/\.?0+$/, '');
}

export function lossCurveSvg(input: LossCurveInput): string {
  const pts = input.points.filter((p) => Number.isFinite(p.step));
  const values = pts
    .flatMap((p) => [p.train, p.val])
    .filter((v): v is number => v !== null && Number.isFinite(v));
  const x0 = pts.length ? Math.min(...pts.map((p) => p.step)) : 0;
  const x1 = pts.length ? Math.max(...pts.map((p) => p.step)) : 1;
  let y0 = values.length ? Math.min(...values) : 0;
  let y1 = values.length ? Math.max(...values) : 1;
  if (y1 - y0 < 1e-9) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const span = y1 - y0;
  y0 = Math.max(0, y0 - span * 0.05);
  y1 += span * 0.05;
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  const sx = (s: number) => PAD.left + (x1 > x0 ? ((s - x0) / (x1 - x0)) * pw : pw / 2);
  const sy = (v: number) => PAD.top + (1 - (v - y0) / (y1 - y0)) * ph;

  const series = (key: 'train' | 'val', color: string, dash: string) => {
    const p = pts.filter((q) => q[key] !== null && Number.isFinite(q[key]!));
    if (p.length === 0) return '';
    if (p.length === 1)
      return `<circle cx="${num(sx(p[0]!.step))}" cy="${num(sy(p[0]![key]!))}" r="4" fill="${color}"/>`;
    const d = p.map((q, i) => `${i === 0 ? 'M' : 'L'}${num(sx(q.step))} ${num(sy(q[key]!))}`).join(' ');
    return `<path d="${d}" fill="none" stroke="${color}" stroke-width="2.5" stroke-linejoin="round"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
  };

  const grid: string[] = [];
  for (const v of ticks(y0, y1, 5)) {
    const y = num(sy(v));
    grid.push(`<line x1="${PAD.left}" y1="${y}" x2="${W - PAD.right}" y2="${y}" stroke="#e3e6ec"/>`);
    grid.push(
      `<text x="${PAD.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${label(v)}</text>`,
    );
  }
  for (const s of ticks(x0, x1, 6)) {
    const x = num(sx(s));
    grid.push(`<text x="${x}" y="${H - PAD.bottom + 18}" text-anchor="middle">${label(s)}</text>`);
  }

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12" fill="#3b4252">`,
    `<rect width="${W}" height="${H}" rx="16" fill="#fbfcfe"/>`,
    `<text x="${PAD.left}" y="30" font-size="18" font-weight="bold" fill="#1b2030">${esc(input.title)}</text>`,
    input.subtitle ? `<text x="${PAD.left}" y="50" fill="#5b6478">${esc(input.subtitle)}</text>` : '',
    input.badge
      ? `<text x="${W - PAD.right}" y="30" text-anchor="end" font-size="16" font-weight="bold" fill="#2e6f40">${esc(input.badge)}</text>`
      : '',
    ...grid,
    `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#9aa3b5"/>`,
    series('train', '#3465d9', ''),
    series('val', '#d9822b', '6 4'),
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle" fill="#5b6478">step</text>`,
    `<g transform="translate(${W - PAD.right - 150} ${PAD.top - 2})"><line x1="0" y1="0" x2="22" y2="0" stroke="#3465d9" stroke-width="2.5"/><text x="28" y="4">train loss</text><line x1="88" y1="0" x2="110" y2="0" stroke="#d9822b" stroke-width="2.5" stroke-dasharray="6 4"/><text x="116" y="4">val</text></g>`,
    '</svg>',
  ]
    .filter(Boolean)
    .join('\n');
}
