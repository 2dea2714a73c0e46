export * from "./codec.js";
export * from "./fields.js";
export * from "./frame.js";
export * from "./handshake.js";
export * from "./message-ids.js";
export * from "./messages/index.js";
export * from "./routing.js";
export * from "./versions.js";
