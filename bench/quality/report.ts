// Markdown tables of the quality bench: per set and perturbation class the mean scores of every
// model, the targets the plate model must meet, flicker, the capture pairs, and what was found.
import type { QualityResults, Scores, SetResult } from './results.js';

const f = (x: number | null | undefined, digits = 2) => (x === null || x === undefined ? '-' : x.toFixed(digits));
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const rule = (n: number) => row(Array.from({ length: n }, () => '---'));

const KIND_LABEL: Record<SetResult['kind'], string> = {
  generated: 'generated foregrounds',
  disagree: 'generated scenes where plate and a person prior disagree',
  real: 'real foregrounds',
  transplant: 'real textures transplanted on their own plate',
};

const SCORE_HEADER = ['SAD', 'MSE', 'Grad', 'Conn', 'fgr MSE'];
const scoreCells = (s: Scores) => [f(s.sad), f(s.mse), f(s.grad), f(s.conn), f(s.fgrMse)];

function setTable(r: QualityResults, s: SetResult, baseline: string | undefined): string[] {
  const lines = [
    `### ${s.id} (${KIND_LABEL[s.kind]}, ${s.width}x${s.height}, ${new Set(s.images.map((i) => i.image)).size} images per class)`,
    '',
    row(['perturbation', 'model', ...SCORE_HEADER, 'interior', 'background', 'SAD / naive', 'ms (median)']),
    rule(SCORE_HEADER.length + 6),
  ];
  for (const [cls, byModel] of Object.entries(s.summary)) {
    const base = baseline ? byModel[baseline] : undefined;
    for (const [model, sc] of Object.entries(byModel)) {
      lines.push(row([cls, model, ...scoreCells(sc), f(sc.interior, 3), f(sc.background, 3), base ? f(sc.sad / base.sad) : '-', f(sc.ms, 1)]));
    }
  }
  for (const m of r.models.filter((m) => !m.available)) lines.push(row(['all', m.name, m.reason ?? 'not installed', '', '', '', '', '', '']));
  return lines;
}

function perImageTable(s: SetResult): string[] {
  const lines = [`#### ${s.id}: per image`, '', row(['image', 'perturbation', 'oracle t', 'model', ...SCORE_HEADER, 'interior', 'background', 'ms']), rule(SCORE_HEADER.length + 7)];
  for (const img of s.images) {
    for (const [model, sc] of Object.entries(img.scores)) {
      lines.push(
        row([img.subject ? `${img.image} (${img.subject})` : img.image, img.perturbation, img.oracleThreshold, model, ...scoreCells(sc), f(sc.interior, 3), f(sc.background, 3), f(sc.ms, 1)]),
      );
    }
  }
  return lines;
}

export function markdownReport(r: QualityResults, o: { perImage: boolean }): string {
  const naive = r.models.find((m) => m.name.startsWith('naive'))?.name;
  const out: string[] = [
    '## Matte quality',
    '',
    `Command: \`${r.command}\` (${r.createdAt}). Units as in the BGMv2 paper: SAD /1000, MSE x1e3, Grad /1000 (Gaussian-derivative ` +
      "magnitudes, sigma 1.4), Conn /1000 (step 0.1), all over the whole image; fgr MSE x1e3 where true alpha > 0 (the naive key's " +
      'foreground is the frame itself). Scores are means over the images of a class.',
    '',
    'Models:',
    ...r.models.map((m) => `- **${m.name}**: ${m.available ? (m.description ?? 'available') : m.reason}`),
    '',
    'Perturbation classes (every class also has light sensor noise, read 1 level, in frame and plate):',
    ...r.options.perturbations.map((p) => `- **${p.id}**: ${p.description}`),
    '',
    'Data:',
    ...(r.sharedData.notes.length ? r.sharedData.notes.map((n) => `- ${n}`) : ['- shared data not searched (real sets not requested)']),
    '',
  ];
  for (const s of r.sets) out.push(...setTable(r, s, naive), '', `Contact sheet: \`${s.contactSheet}\``, '');

  out.push(
    `### Targets: ${r.checks.length === 0 ? 'none applied' : r.pass ? 'all pass' : `**${r.checks.filter((c) => !c.pass).length} of ${r.checks.length} fail**`} (default model: ${r.defaultModel})`,
    '',
    row(['check', 'set', 'class / image', 'model', 'value', 'target', 'figures', 'pass']),
    rule(8),
    ...r.checks.map((c) => row([c.what, c.set, c.subject, c.model, f(c.value, 3), `${c.op} ${f(c.target)}`, c.detail || '-', c.pass ? 'yes' : '**NO**'])),
    '',
  );

  if (r.temporal) {
    const t = r.temporal.options;
    out.push(
      `### Temporal stability (${t.frames} frames ${t.width}x${t.height}, static subject, sensor noise read ${t.read} + shot ${t.shot}/level fresh every frame, fixed plate)`,
      '',
      'Mean |alpha(t) - alpha(t-1)| x1e3 (alpha in 0..1). The naive key keeps the oracle threshold of the first frame; clip models ' +
        '(rvm) carry their state from frame to frame. SAD per frame says whether a steady matte is also a right one.',
      '',
      row(['model', 'background', 'subject (true alpha > 0)', 'all pixels', 'all / naive', 'SAD per frame']),
      rule(6),
    );
    const base = naive ? r.temporal.flicker[naive] : undefined;
    for (const [model, fl] of Object.entries(r.temporal.flicker)) {
      out.push(row([model, f(fl.background, 3), f(fl.subject, 3), f(fl.all, 3), base ? f(fl.all / base.all) : '-', f(fl.sad)]));
    }
    out.push('');
    for (const c of r.temporal.cases ?? []) {
      out.push(`#### ${c.name}`, '', `${c.description}. Flicker over all pixels (x1e3); SAD per frame where the truth is known.`, '', row(['model', 'flicker', 'SAD per frame']), rule(3));
      for (const [model, s] of Object.entries(c.scores)) out.push(row([model, f(s.flicker, 3), f(s.sad, 3)]));
      out.push('');
    }
  }

  if (r.capturePairs) {
    const models = Object.keys(r.capturePairs.images[0]?.models ?? {});
    out.push(
      '### Real capture pairs (align on), against trimaps drawn by eye',
      '',
      'Per frame and model: mean alpha on the interior (surely subject) with holes (share of it below 0.5), mean alpha on the ' +
        `exterior (surely background) with leaks (share above 0.5), share of the frame opaque, run time. Contact sheet: \`${r.capturePairs.contactSheet}\`; full-size alphas in \`pairs/\`.`,
      '',
      row(['pair', 'model', 'interior mean', 'holes %', 'exterior mean', 'leaks %', 'opaque %', 'ms']),
      rule(8),
    );
    for (const p of r.capturePairs.images) {
      for (const m of models) {
        const s = p.models[m]!;
        const t = s.trimap;
        out.push(row([p.name, m, f(t?.interiorMean, 3), t ? f(100 * t.holes) : '-', f(t?.exteriorMean, 3), t ? f(100 * t.leaks) : '-', f(100 * s.coverage, 1), f(s.ms, 0)]));
      }
      if (!p.trimap.scored) out.push(row([`${p.name}: not scored (${p.trimap.reason})`, '', '', '', '', '', '', '']));
      if (p.note) out.push(row([`note: ${p.note}`, '', '', '', '', '', '', '']));
    }
    out.push('');
  }

  if (o.perImage) for (const s of r.sets) out.push(...perImageTable(s), '');
  return out.join('\n');
}
