// Hive Gateway with inbound in-flight de-duplication of identical requests.
export const gatewayConfig = { inboundInflightRequestDeduplication: true };
