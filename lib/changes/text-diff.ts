/**
 * A unified diff of two texts, line by line, whose every hunk header names what it is about
 * (`@@ Deployment pronto/order-service -12,7 +12,7 @@`), so a reviewer never scrolls up to
 * find which object a changed line belongs to.
 */

/** One line of a diff: kept (` `), removed (`-`) or added (`+`). */
interface DiffLine {
  readonly mark: ' ' | '-' | '+';
  readonly text: string;
  /** 1-based line numbers in the old and the new text (the side it is on). */
  readonly oldLine: number;
  readonly newLine: number;
}

/** The edit script from `a` to `b`: a longest common subsequence, removals before additions. */
function editScript(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: length of the LCS of a[i..] and b[j..], row by row in one typed array.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i] === b[j] ? lcs[(i + 1) * (m + 1) + j + 1] + 1 : Math.max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1]);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ mark: ' ', text: a[i], oldLine: ++i, newLine: ++j });
    } else if (j >= m || (i < n && lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1])) {
      out.push({ mark: '-', text: a[i], oldLine: ++i, newLine: j });
    } else {
      out.push({ mark: '+', text: b[j], oldLine: i, newLine: ++j });
    }
  }
  return out;
}

/**
 * The unified diff of `before` and `after` with `context` lines around each change, every
 * hunk headed by `label`; empty when the texts are equal.
 */
export function unifiedDiff(before: string, after: string, label: string, context = 3): string[] {
  const script = editScript(before.split('\n'), after.split('\n'));
  const changed = script.map((l, k) => (l.mark === ' ' ? -1 : k)).filter((k) => k >= 0);
  if (changed.length === 0) return [];
  // Group changes whose contexts touch into one hunk.
  const hunks: Array<[number, number]> = [];
  for (const k of changed) {
    const last = hunks[hunks.length - 1];
    if (last && k - last[1] <= 2 * context) last[1] = k;
    else hunks.push([k, k]);
  }
  return hunks.flatMap(([first, last]) => {
    const from = Math.max(0, first - context);
    const to = Math.min(script.length - 1, last + context);
    const lines = script.slice(from, to + 1);
    const oldCount = lines.filter((l) => l.mark !== '+').length;
    const newCount = lines.filter((l) => l.mark !== '-').length;
    const oldStart = (lines.find((l) => l.mark !== '+')?.oldLine ?? lines[0].oldLine + 1);
    const newStart = (lines.find((l) => l.mark !== '-')?.newLine ?? lines[0].newLine + 1);
    return [`@@ ${label} -${oldStart},${oldCount} +${newStart},${newCount} @@`, ...lines.map((l) => `${l.mark}${l.text}`)];
  });
}
