import type { PreparedManifest, PreparationReportFile } from './manifest.ts';

/**
 * The dataset card: README.md in the dataset directory, for people (and for anyone who gets the
 * dataset by its CID). Deterministic: no timestamp (the manifest has createdAt), no absolute paths.
 */
export function renderDatasetCard(m: PreparedManifest, report: PreparationReportFile): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const lines: string[] = [];
  const o = m.options;
  lines.push(`# ${m.name}`, '');
  lines.push(
    `A tokenized text dataset prepared by ${m.generator.name} ${m.generator.version} for training GPT models ` +
      `(nanoGPT layout: \`train.bin\` and \`val.bin\` are flat arrays of little-endian \`${m.dtype}\` token ids).`,
    '',
  );
  lines.push('## Summary', '');
  lines.push('| | train | val |', '| --- | ---: | ---: |');
  lines.push(`| documents | ${n(m.splits.train.documents)} | ${n(m.splits.val.documents)} |`);
  lines.push(`| characters | ${n(m.splits.train.characters)} | ${n(m.splits.val.characters)} |`);
  lines.push(`| tokens | ${n(m.splits.train.tokens)} | ${n(m.splits.val.tokens)} |`);
  lines.push(`| bytes | ${n(m.splits.train.bytes)} | ${n(m.splits.val.bytes)} |`, '');
  lines.push('## Tokenizer', '');
  const tokDesc: Record<string, string> = {
    char: 'character level (nanoGPT shakespeare_char): the vocabulary is the sorted set of the characters of the dataset',
    bpe: 'byte-level BPE trained on this dataset (GPT-2 pre-tokenizer regex; ids 0–255 are the bytes; the last id is <|endoftext|>)',
    gpt2: "GPT-2's encoding (50,257 tokens; <|endoftext|> = 50256), from js-tiktoken's ranks",
  };
  lines.push(`- kind: \`${m.tokenizerSpec}\` — ${tokDesc[m.tokenizer.kind]}`);
  lines.push(`- vocabulary size: ${n(m.vocabSize)}; token dtype: \`${m.dtype}\``);
  lines.push(
    `- file: \`${m.tokenizer.file}\` (load it with \`loadTokenizer\` from XAI-Link's src/shared/tokenizers)`,
  );
  lines.push(
    m.documentSeparator
      ? `- documents are separated by ${JSON.stringify(m.documentSeparator.text)} (ids ${m.documentSeparator.ids.join(', ')}), written after each document`
      : '- one document: no separator',
    '',
  );
  lines.push('## Split', '');
  lines.push(
    m.split.rule === 'single-document'
      ? `One document, cut like nanoGPT's prepare.py: the first ${n(m.splits.train.characters)} characters (⌊n·${1 - m.split.valRatio}⌋) are train, the last ${n(m.splits.val.characters)} val.`
      : `By document: ${n(m.splits.val.documents)} of ${n(m.splits.train.documents + m.splits.val.documents)} documents (val ratio ${m.split.valRatio}) chosen by a shuffle seeded with ${m.split.seed}; both splits keep the input order.`,
    '',
  );
  lines.push('## Sources', '');
  lines.push('| file | format | status | bytes | documents |', '| --- | --- | --- | ---: | ---: |');
  for (const s of m.sources)
    lines.push(
      `| ${escapeCell(s.path)} | ${s.format ?? '-'} | ${s.status} | ${n(s.bytes)} | ${n(s.documents)} |`,
    );
  if (report.ignoredInFolders.count > 0)
    lines.push(
      '',
      `${n(report.ignoredInFolders.count)} files in the input folders were not of a supported type and were ignored.`,
    );
  const problems = report.files.flatMap((f) => f.problems.map((p) => ({ file: f.path, p })));
  if (problems.length > 0) {
    lines.push('', '### Problems while reading', '');
    for (const { p } of problems.slice(0, 50)) lines.push(`- ${p.message} — ${p.hint}`);
    if (problems.length > 50) lines.push(`- … and ${problems.length - 50} more (see report.json)`);
  }
  lines.push('', '## Cleaning', '');
  const c = m.cleaning;
  lines.push(
    `Unicode NFC and newline normalisation (CRLF/CR → LF)${o.lowercase ? ', lower-casing' : ''}; ` +
      `${n(c.documentsIn)} documents (${n(c.charactersIn)} characters) in, ${n(c.documentsOut)} (${n(c.charactersOut)} characters) kept.`,
    '',
  );
  lines.push('| step | on | documents removed | characters removed |', '| --- | --- | ---: | ---: |');
  for (const s of c.steps)
    lines.push(
      `| ${s.step}: ${s.description} | ${s.enabled ? 'yes' : 'no'} | ${n(s.removedDocuments)} | ${n(s.removedCharacters)} |`,
    );
  if (c.nearDuplicates) {
    const d = c.nearDuplicates;
    lines.push(
      '',
      `Near-duplicates: MinHash with ${d.numPerm} permutations over word ${d.shingleWords}-grams, LSH with ${d.bands} bands × ${d.rows} rows, threshold ${d.threshold} (checked on the signatures).`,
    );
  }
  lines.push('', '## Options', '', '```json', JSON.stringify(o, null, 2), '```', '');
  lines.push('## Files', '', '| file | bytes | sha256 |', '| --- | ---: | --- |');
  for (const [name, f] of Object.entries(m.files))
    lines.push(`| ${name} | ${n(f.bytes)} | \`${f.sha256}\` |`);
  lines.push(
    '',
    '## Loading',
    '',
    '```python',
    'import numpy as np',
    `train = np.memmap("train.bin", dtype=np.${m.dtype}, mode="r")`,
    '```',
    '',
  );
  return lines.join('\n');
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}
