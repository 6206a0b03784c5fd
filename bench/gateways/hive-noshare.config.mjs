// Hive Gateway without any sharing (issue 15 goal 1, the peer of `ours-noshare`): no inbound
// de-duplication (the default) and no de-duplication of identical in-flight subgraph fetches
// (`deduplicateInflightRequests`, on by default in @graphql-tools/executor-http), for every
// subgraph ("*" transport entry).
export const gatewayConfig = {
  transportEntries: {
    "*": { options: { deduplicateInflightRequests: false } },
  },
};
