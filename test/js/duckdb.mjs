// Reads tenantpulse's archive with DuckDB, as a BI user would, and prints
// what it found as JSON: every row's id, and whether each row sits in the
// Hive partitions its own columns say (stream=, dt=).
//
//   node duckdb.mjs <data>/buckets
import { DuckDBInstance } from '@duckdb/node-api';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node duckdb.mjs <archive directory>');
  process.exit(2);
}
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
const glob = `${dir}/*/events/**/*.parquet`.replaceAll("'", "''");
const reader = await conn.runAndReadAll(`
  SELECT count(*) AS rows,
         count(DISTINCT id) AS ids,
         count(*) FILTER (WHERE stream <> stream_name) AS wrong_stream,
         count(*) FILTER (WHERE CAST(dt AS VARCHAR) <> strftime(time AT TIME ZONE 'UTC', '%Y-%m-%d')) AS wrong_date,
         count(DISTINCT tenantid) AS tenants
  FROM read_parquet('${glob}', hive_partitioning = true)`);
const [row] = reader.getRowObjectsJson();
console.log(JSON.stringify(row));
