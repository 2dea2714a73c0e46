export * from "./pool.js";
