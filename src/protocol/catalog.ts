/** Every message codec, looked up by direction and id. */
import type { MessageCodec } from "./codec.js";
import * as messages from "./messages/index.js";

function isCodec(x: unknown): x is MessageCodec<unknown> {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as MessageCodec<unknown>).id === "number" &&
    typeof (x as MessageCodec<unknown>).read === "function" &&
    typeof (x as MessageCodec<unknown>).write === "function"
  );
}

const ALL: readonly MessageCodec<unknown>[] = (Object.values(messages) as unknown[]).filter(isCodec);

export const OUT_CODECS: ReadonlyMap<number, MessageCodec<unknown>> = new Map(
  ALL.filter((c) => c.direction === "out").map((c) => [c.id, c]),
);
export const IN_CODECS: ReadonlyMap<number, MessageCodec<unknown>> = new Map(
  ALL.filter((c) => c.direction === "in").map((c) => [c.id, c]),
);

export function allCodecs(): readonly MessageCodec<unknown>[] {
  return ALL;
}
