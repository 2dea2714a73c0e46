// What the history benches share: the mock's US stocks and a bare client over our codec.
import { connect } from "node:net";
import {
  decodeFields,
  encodeClientHello,
  encodeFields,
  encodeFrame,
  FrameDecoder,
} from "../dist/protocol/index.js";

/** US stocks of the mock's catalogue (unknown contracts are answered with 200). */
export const STOCKS = [
  [265598, "AAPL"],
  [272093, "MSFT"],
  [756733, "SPY"],
  [3691937, "AMZN"],
  [208813719, "GOOGL"],
  [76792991, "TSLA"],
  [4815747, "NVDA"],
  [107113386, "META"],
  [8314, "IBM"],
  [320227571, "QQQ"],
];

/** Hello, START_API (client id 9), then every message to `onMessage`; resolves at NEXT_VALID_ID. */
export function codecClient(port, onMessage) {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    const frames = new FrameDecoder();
    let hello = false;
    socket.on("error", reject);
    socket.on("data", (chunk) => {
      for (const payload of frames.push(chunk)) {
        const f = decodeFields(payload);
        if (!hello) {
          hello = true;
          socket.write(encodeFrame(encodeFields(["71", "2", "9", ""])));
          continue;
        }
        if (f[0] === "9") resolve(socket);
        onMessage(f);
      }
    });
    socket.on("connect", () => socket.write(encodeClientHello({ min: 157, max: 178, options: "" })));
  });
}
