import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

const SEED = [
  ['lamp', 'Desk lamp', 12],
  ['chair', 'Office chair', 3],
  ['desk', 'Standing desk', 0],
] as const;

/**
 * Inventory's PostgreSQL, through the `pg` driver: the one at DATABASE_URL, or, with none
 * set, an embedded one (PGlite served over the Postgres wire protocol on 127.0.0.1), so the
 * demo needs nothing running and its SQL spans are real either way. The stock is reset to
 * the seed on every start, so each demo run tells the same story.
 */
export class StockDatabase implements OnApplicationShutdown {
  private constructor(
    readonly pool: pg.Pool,
    private readonly embedded?: EmbeddedPostgres,
  ) {}

  static async open(url: string | undefined): Promise<StockDatabase> {
    const database = url ? new StockDatabase(new pg.Pool({ connectionString: url, max: 10 })) : await this.embedded();
    await database.pool.query(
      'CREATE TABLE IF NOT EXISTS stock (sku text PRIMARY KEY, name text NOT NULL, available int NOT NULL)',
    );
    for (const [sku, name, available] of SEED) {
      await database.pool.query(
        'INSERT INTO stock (sku, name, available) VALUES ($1, $2, $3) ' +
          'ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, available = EXCLUDED.available',
        [sku, name, available],
      );
    }
    return database;
  }

  private static async embedded(): Promise<StockDatabase> {
    const embedded = await startEmbeddedPostgres();
    new Logger('StockDatabase').log(
      `no DATABASE_URL: embedded PostgreSQL (PGlite) on ${embedded.host}:${embedded.port}`,
    );
    // the embedded server serves one connection
    const pool = new pg.Pool({
      host: embedded.host,
      port: embedded.port,
      user: 'postgres',
      database: 'postgres',
      max: 1,
    });
    return new StockDatabase(pool, embedded);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
    await this.embedded?.stop();
  }
}
