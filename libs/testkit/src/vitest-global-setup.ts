// Placeholder until the control-plane harness lands: the global setup of the test run.
export default async function setup(): Promise<void> {}
