/** Every request the mock answers, by outgoing message id. */
import type { Handler } from "../context.js";
import { connectionHandlers } from "./connection.js";

export const HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([...connectionHandlers]);
