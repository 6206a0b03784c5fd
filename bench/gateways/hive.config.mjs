// Hive Gateway, defaults: no inbound in-flight request de-duplication.
export const gatewayConfig = {};
