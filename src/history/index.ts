export * from "./bar-sizes.js";
