import { describe, expect, it } from "vitest";
import { ibProcessKind, parseCmdline, parseLsof, parseProcNetTcp, socketInode } from "./proc-net.js";

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0FA2 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:D431 0100007F:0FA2 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F90 00000000:0000 06 00000000:00000000 00:00000000 00000000     0        0 0 1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0FA1 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5151 1
   1: 00000000000000000000000001000000:1D4C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5252 1
   2: 0000000000000000FFFF00000100007F:0FA2 0000000000000000FFFF00000100007F:C000 01 00000000:00000000 00:00000000 00000000  1000        0 5353 1
`;

describe("parseProcNetTcp", () => {
  it("reads IPv4 listeners and connections", () => {
    expect(parseProcNetTcp(TCP)).toEqual([
      {
        localAddress: "127.0.0.1",
        localPort: 4002,
        remoteAddress: "0.0.0.0",
        remotePort: 0,
        state: "listen",
        inode: 4242,
      },
      {
        localAddress: "127.0.0.1",
        localPort: 54321,
        remoteAddress: "127.0.0.1",
        remotePort: 4002,
        state: "established",
        inode: 4343,
      },
      {
        localAddress: "0.0.0.0",
        localPort: 8080,
        remoteAddress: "0.0.0.0",
        remotePort: 0,
        state: "other",
        inode: 0,
      },
    ]);
  });

  it("reads IPv6, with IPv4-mapped addresses shown as IPv4", () => {
    const e = parseProcNetTcp(TCP6);
    expect(e.map((x) => `${x.localAddress}:${x.localPort}/${x.state}`)).toEqual([
      ":::4001/listen",
      "::1:7500/listen",
      "127.0.0.1:4002/established",
    ]);
  });

  it("skips malformed lines", () => {
    expect(parseProcNetTcp("header\ngarbage\n  0: zz:zz\n")).toEqual([]);
  });
});

describe("small parsers", () => {
  it("socket inodes, command lines", () => {
    expect(socketInode("socket:[123]")).toBe(123);
    expect(socketInode("pipe:[123]")).toBeNull();
    expect(parseCmdline("java\0-jar\0ibgateway.jar\0")).toBe("java -jar ibgateway.jar");
  });

  it("lsof -F output", () => {
    const text =
      "p4242\ncjava\nn127.0.0.1:4002\nTST=LISTEN\np77\ncpython3\nn127.0.0.1:50000->127.0.0.1:4002\nTST=ESTABLISHED\n";
    expect(parseLsof(text)).toEqual([
      { pid: 4242, name: "java", localPort: 4002, remotePort: null, state: "listen" },
      { pid: 77, name: "python3", localPort: 50000, remotePort: 4002, state: "established" },
    ]);
  });

  it("tells TWS and IB Gateway processes from others", () => {
    expect(ibProcessKind("/opt/ibgateway/1019/jre/bin/java -cp ... ibgateway.GWClient")).toBe("gateway");
    expect(ibProcessKind("java -cp ibcalpha.ibc.IbcGateway /opt/ibc/config.ini")).toBe("gateway");
    expect(ibProcessKind("/home/me/Jts/tws -J-DjtsConfigDir=/home/me/Jts")).toBe("tws");
    expect(ibProcessKind("java -cp jts4launch.jar jclient.LoginFrame /home/me/Jts")).toBe("tws");
    expect(ibProcessKind("node bin/switchboard.js mock-gateway --port 4002")).toBeNull();
    expect(ibProcessKind("grep ibgateway")).toBeNull();
    expect(ibProcessKind("python3 execute_spy_trades.py")).toBeNull();
  });
});
