export * from "./names.js";
export * from "./canonical.js";
export * from "./signing.js";
export * from "./schemas.js";
export * from "./codec.js";
export * from "./control.js";
export * from "./trace-context.js";
export * from "./metric-instruments.js";
