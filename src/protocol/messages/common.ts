/** Small shapes shared by many messages. */
export interface ReqIdOnly {
  reqId: number;
}

export interface TickerIdOnly {
  tickerId: number;
}

export type Empty = Record<string, never>;
export const EMPTY: Empty = {};

export interface TagValue {
  tag: string;
  value: string;
}

/** IB sends TagValue lists as one field: "tag1=val1;tag2=val2;". */
export function formatTagValues(list: readonly TagValue[]): string {
  return list.map((t) => `${t.tag}=${t.value};`).join("");
}

export function parseTagValues(text: string): TagValue[] {
  return text
    .split(";")
    .filter((p) => p.length > 0)
    .map((p) => {
      const i = p.indexOf("=");
      return i === -1 ? { tag: p, value: "" } : { tag: p.slice(0, i), value: p.slice(i + 1) };
    });
}
