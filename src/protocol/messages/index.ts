export * from "./account.js";
export * from "./common.js";
export * from "./connection.js";
export * from "./contract.js";
export * from "./contracts.js";
export * from "./history.js";
export * from "./market-data.js";
