/**
 * The parts of Workers' `cloudflare:sockets` module this layer uses, typed here so that the package
 * needs neither `@cloudflare/workers-types` nor a module that only workerd can resolve: Node, Deno
 * and Bun load and typecheck this package without it, and import it only inside a Worker.
 * https://developers.cloudflare.com/workers/runtime-apis/tcp-sockets/
 */
export interface SocketInfo {
  /** For an outbound socket, the address given to `connect` as `host:port`. */
  readonly remoteAddress?: string | null
  /** Unset for outbound sockets. */
  readonly localAddress?: string | null
}

export interface Socket {
  readonly readable: ReadableStream<Uint8Array>
  readonly writable: WritableStream<Uint8Array>
  /** Settles once the connection (and, after `startTls`, the TLS handshake) is up, or has failed. */
  readonly opened: Promise<SocketInfo>
  readonly closed: Promise<void>
  close(): Promise<void>
  /**
   * Closes this socket's streams and returns a socket that runs TLS over the same connection,
   * verifying the server against the platform's trusted CAs and the host connected to. Nothing
   * about TLS can be chosen: its one option, `expectedServerHostname`, is being withdrawn.
   */
  startTls(): Socket
}

export interface SocketOptions {
  /** `starttls`: plaintext first, `startTls()` allowed later (the MySQL SSL Request's way). */
  readonly secureTransport: "off" | "on" | "starttls"
  /** false: the writable side closes when the peer ends its side. */
  readonly allowHalfOpen: boolean
}

export interface SocketsModule {
  connect(address: { readonly hostname: string; readonly port: number }, options: SocketOptions): Socket
}

/**
 * Loaded on first connect, by its literal name, so that bundlers (wrangler's among them) see it and
 * leave it to the runtime. Only workerd has the module, and these types stand in for its own.
 */
export const load = (): Promise<SocketsModule> =>
  // @ts-expect-error: TypeScript has no declarations for the module, by design (see above).
  import("cloudflare:sockets")
