/** A tiny element builder and the formatting every panel shares. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined>;

/** `h("td", {class: "num"}, 42)`; text is always set as text, never parsed as HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Replace the container's content only when it changed (keeps text selection and focus). */
export function swap(container: HTMLElement, next: Node): void {
  const cur = container.firstChild;
  if (cur && container.childNodes.length === 1 && cur.isEqualNode(next)) return;
  container.replaceChildren(next);
}

/** A table with a caption for screen readers, or a short "none" note. */
export function table(
  caption: string,
  head: readonly string[],
  rows: readonly Child[][],
  numeric: readonly number[] = [],
): Node {
  if (rows.length === 0) return h("p", { class: "none" }, `No ${caption.toLowerCase()}.`);
  return h(
    "table",
    {},
    h("caption", { class: "sr-only" }, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ...head.map((t, i) => h("th", { scope: "col", class: numeric.includes(i) ? "num" : undefined }, t)),
      ),
    ),
    h(
      "tbody",
      {},
      ...rows.map((r) =>
        h("tr", {}, ...r.map((c, i) => h("td", { class: numeric.includes(i) ? "num" : undefined }, c))),
      ),
    ),
  );
}

export const dash = "–";

export function num(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return dash;
  return v.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** 3723000 → "1h 2m 3s"; short and exact enough for an uptime. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return dash;
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86_400);
  const hh = Math.floor((s % 86_400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (d > 0) return `${d}d ${hh}h ${mm}m`;
  if (hh > 0) return `${hh}h ${mm}m ${ss}s`;
  if (mm > 0) return `${mm}m ${ss}s`;
  return `${ss}s`;
}

/** Local wall time "14:03:07" with the full ISO time as a tooltip. */
export function time(ts: number): HTMLTimeElement {
  const d = new Date(ts);
  return h(
    "time",
    { datetime: d.toISOString(), title: d.toISOString() },
    d.toLocaleTimeString(undefined, { hour12: false }),
  );
}
