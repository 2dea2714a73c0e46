export * from "./connection.js";
export * from "./contract.js";
export * from "./contracts.js";
