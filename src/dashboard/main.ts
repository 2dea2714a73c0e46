/**
 * The dashboard's entry point (bundled by esbuild into dist/assets/dashboard.js and dashboard.css).
 * The token leaves the address bar before anything else runs.
 */
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { Api, takeToken } from "./api.js";
import { Dashboard } from "./app.js";

const api = new Api(takeToken());
void new Dashboard(api).start();
