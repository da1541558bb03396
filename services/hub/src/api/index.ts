export { buildApi, type ApiOptions } from "./build-api.js";
export type { HubControl } from "./hub-control.js";
