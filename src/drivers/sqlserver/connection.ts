/** The connection the SQL Server driver needs (a small structural interface) and the real one (mssql). */

/** Options of one query. */
export interface QueryOptions {
  /** Informational messages of this statement (BACKUP/RESTORE `STATS`: `10 percent processed.`). */
  onInfo?: (message: string) => void;
  /** Cancels the running statement when aborted. */
  signal?: AbortSignal;
}

/** The few things the driver does with a SQL Server connection (always in the context of `master`). */
export interface SqlConnection {
  /** Runs one statement with named parameters (`@name`); resolves with the first result set's rows. */
  query(
    text: string,
    params?: Record<string, string | number>,
    options?: QueryOptions,
  ): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** Where and how to connect: the config resolved (URL and fields merged). */
export interface ConnectionSettings {
  server: string;
  port?: number;
  instance?: string;
  user?: string;
  password?: string;
  /** The `${VAR}` the password came from (DatabaseConfig.passwordVariable): named when the login is refused. */
  passwordVariable?: string;
  database: string;
  encrypt: boolean;
  trustServerCertificate: boolean;
  serverBackupDir: string;
  localBackupDir: string;
}

export type SqlConnector = (settings: ConnectionSettings) => Promise<SqlConnection>;

/** The real connector: one mssql ConnectionPool of a single connection to `master`. */
export const mssqlConnector: SqlConnector = async (s) => {
  // Loaded on first use: mssql (tedious) is heavy and most runs never talk to SQL Server.
  const { default: sql } = await import('mssql');
  const pool = new sql.ConnectionPool({
    server: s.server,
    ...(s.instance ? {} : { port: s.port ?? 1433 }),
    user: s.user,
    password: s.password,
    database: 'master',
    connectionTimeout: 15_000,
    requestTimeout: 0,
    pool: { min: 0, max: 1 },
    options: {
      encrypt: s.encrypt,
      trustServerCertificate: s.trustServerCertificate,
      appName: 'respaldo',
      ...(s.instance ? { instanceName: s.instance } : {}),
    },
  });
  await pool.connect();
  return {
    async query(text, params = {}, options = {}) {
      const request = pool.request();
      for (const [name, value] of Object.entries(params)) {
        if (typeof value === 'number') request.input(name, sql.BigInt, value);
        else request.input(name, sql.NVarChar(value.length > 4000 ? sql.MAX : 4000), value);
      }
      if (options.onInfo) {
        const onInfo = options.onInfo;
        request.on('info', (info: { message?: string }) => onInfo(String(info.message ?? '')));
      }
      const cancel = (): void => request.cancel();
      options.signal?.addEventListener('abort', cancel, { once: true });
      try {
        const result = await request.query(text);
        return (result.recordset ?? []) as Record<string, unknown>[];
      } finally {
        options.signal?.removeEventListener('abort', cancel);
      }
    },
    close: () => pool.close(),
  };
};
