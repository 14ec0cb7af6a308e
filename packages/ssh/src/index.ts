export * as HostKey from "./HostKey.ts"
export * from "./SshError.ts"
export * as SshTunnel from "./SshTunnel.ts"
