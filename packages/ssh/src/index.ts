export * from "./SshError.ts"
export * as SshTunnel from "./SshTunnel.ts"
