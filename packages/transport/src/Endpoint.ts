/** Where to connect: a TCP host and port, or the path of a Unix socket. */
export type Endpoint = TcpEndpoint | UnixEndpoint

export interface TcpEndpoint {
  readonly _tag: "Tcp"
  readonly host: string
  readonly port: number
}

export interface UnixEndpoint {
  readonly _tag: "Unix"
  readonly path: string
}

export const tcp = (host: string, port: number): Endpoint => ({ _tag: "Tcp", host, port })

export const unix = (path: string): Endpoint => ({ _tag: "Unix", path })

/** `host:port` or the socket path, for messages. */
export const format = (endpoint: Endpoint): string =>
  endpoint._tag === "Unix"
    ? endpoint.path
    : endpoint.host.includes(":")
      ? `[${endpoint.host}]:${endpoint.port}`
      : `${endpoint.host}:${endpoint.port}`
