// Helpers for tests of code that talks to the API server (not used by the product).
export { CountingKubeClient, type RequestCounts } from "./counting-client.js";
