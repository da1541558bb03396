export * from "./vocabulary.js";
export * from "./errors.js";
export * from "./objects.js";
export * from "./fleet.js";
export * from "./bundle.js";
export * from "./reports.js";
export * from "./break-glass.js";
export * from "./promotion.js";
