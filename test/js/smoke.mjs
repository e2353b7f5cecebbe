// Smoke test of tenantpulse's Kinesis API with the AWS SDK for JavaScript v3
// over HTTP/2 without TLS (h2c, prior knowledge).
//
//   node smoke.mjs http://127.0.0.1:PORT
//
// It puts records (PutRecord and PutRecords), reads every shard from
// TRIM_HORIZON and checks each record comes back byte for byte with the
// sequence number and shard it was acknowledged with. It also proves the
// transport: a bare http2.connect to the endpoint gets GET /healthz over
// HTTP/2, and every SDK call goes through NodeHttp2Handler sessions whose
// peer sent an HTTP/2 SETTINGS frame (an HTTP/1.1-only server would fail
// the connection preface). Exits non-zero on any mismatch.

import http2 from "node:http2";
import { Buffer } from "node:buffer";
import {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttp2Handler } from "@smithy/node-http-handler";

const endpoint = process.argv[2];
if (!endpoint || !endpoint.startsWith("http://")) {
  console.error("usage: node smoke.mjs http://HOST:PORT");
  process.exit(2);
}

function fail(msg) {
  throw new Error(msg);
}

// h2get sends one request on its own HTTP/2 session and returns the
// status and body.
function h2get(path) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(endpoint);
    session.on("error", reject);
    const req = session.request({ ":method": "GET", ":path": path });
    req.on("error", reject);
    let status = 0;
    const chunks = [];
    req.on("response", (h) => (status = h[":status"]));
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      session.close();
      resolve({ status, body: Buffer.concat(chunks).toString(), alpn: session.alpnProtocol });
    });
    req.end();
  });
}

// A NodeHttp2Handler whose sessions are watched: each must be h2c and must
// receive the server's SETTINGS; every request stream is counted.
const sessions = [];
const handler = new NodeHttp2Handler({ requestTimeout: 30_000, sessionTimeout: 30_000, disableConcurrentStreams: false });
const connect = handler.connectionManager.connect.bind(handler.connectionManager);
handler.connectionManager.connect = (url) => {
  const session = connect(url);
  const s = { url, settings: false, alpn: undefined, streams: 0 };
  session.on("connect", () => (s.alpn = session.alpnProtocol));
  session.on("remoteSettings", () => (s.settings = true));
  const request = session.request.bind(session);
  session.request = (...args) => {
    s.streams++;
    return request(...args);
  };
  sessions.push(s);
  return session;
};

const client = new KinesisClient({
  endpoint,
  region: "us-west-2",
  credentials: { accessKeyId: "AKIDJSSMOKE", secretAccessKey: "js-smoke-secret" },
  requestHandler: handler,
  maxAttempts: 1,
});
let calls = 0;
const send = (cmd) => {
  calls++;
  return client.send(cmd);
};

async function main() {
  const health = await h2get("/healthz");
  if (health.status !== 200 || health.body.trim() !== "ok") {
    fail(`GET /healthz over HTTP/2: status ${health.status}, body ${JSON.stringify(health.body)}`);
  }
  if (health.alpn !== "h2c") {
    fail(`GET /healthz: protocol ${health.alpn}, want h2c`);
  }

  const stream = `js-smoke-${process.pid}`;
  await send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
  for (let i = 0; ; i++) {
    const s = await send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (s.StreamDescriptionSummary.StreamStatus === "ACTIVE") break;
    if (i >= 100) fail(`stream ${stream} is not ACTIVE: ${s.StreamDescriptionSummary.StreamStatus}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  // What was put, by "shard/sequence number".
  const put = new Map();
  const remember = (shard, seq, key, data) => {
    if (!shard || !seq) fail(`a put was acknowledged without a shard or sequence number: ${shard} ${seq}`);
    const k = `${shard}/${seq}`;
    if (put.has(k)) fail(`sequence number ${k} was given twice`);
    put.set(k, { key, data });
  };

  const one = new TextEncoder().encode("héllo from the JS SDK over h2c");
  const r1 = await send(new PutRecordCommand({ StreamName: stream, PartitionKey: "tenant-js", Data: one }));
  remember(r1.ShardId, r1.SequenceNumber, "tenant-js", one);

  const batch = [];
  for (let i = 0; i < 40; i++) {
    const data = new Uint8Array(1 + ((i * 37) % 300));
    for (let j = 0; j < data.length; j++) data[j] = (i * 31 + j * 7) & 0xff; // binary, zero bytes included
    batch.push({ PartitionKey: `tenant-${i % 13}`, Data: data });
  }
  const rs = await send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
  if (rs.FailedRecordCount !== 0) fail(`PutRecords: ${rs.FailedRecordCount} records failed: ${JSON.stringify(rs.Records)}`);
  if (rs.Records.length !== batch.length) fail(`PutRecords: ${rs.Records.length} results for ${batch.length} records`);
  rs.Records.forEach((r, i) => remember(r.ShardId, r.SequenceNumber, batch[i].PartitionKey, batch[i].Data));

  const shards = (await send(new ListShardsCommand({ StreamName: stream }))).Shards;
  if (shards.length !== 2) fail(`ListShards: ${shards.length} shards, want 2`);
  let got = 0;
  for (const sh of shards) {
    let it = (
      await send(new GetShardIteratorCommand({ StreamName: stream, ShardId: sh.ShardId, ShardIteratorType: "TRIM_HORIZON" }))
    ).ShardIterator;
    let prev = "";
    for (let i = 0; ; i++) {
      if (i > 1000) fail(`shard ${sh.ShardId}: GetRecords never caught up`);
      const out = await send(new GetRecordsCommand({ ShardIterator: it }));
      for (const r of out.Records) {
        const k = `${sh.ShardId}/${r.SequenceNumber}`;
        const want = put.get(k);
        if (!want) fail(`GetRecords returned ${k}, which was never put`);
        if (r.PartitionKey !== want.key) fail(`${k}: partition key ${r.PartitionKey}, want ${want.key}`);
        if (Buffer.compare(Buffer.from(r.Data), Buffer.from(want.data)) !== 0) {
          fail(`${k}: data ${Buffer.from(r.Data).toString("hex")}, want ${Buffer.from(want.data).toString("hex")}`);
        }
        if (r.SequenceNumber <= prev) fail(`${k}: sequence numbers do not increase (${prev} then ${r.SequenceNumber})`);
        prev = r.SequenceNumber;
        put.delete(k);
        got++;
      }
      it = out.NextShardIterator;
      if (out.Records.length === 0 && out.MillisBehindLatest === 0) break;
    }
  }
  if (put.size !== 0) fail(`${put.size} acknowledged records were not read back: ${[...put.keys()].join(", ")}`);

  // Every SDK call went over an HTTP/2 session that the server answered
  // with SETTINGS.
  if (sessions.length === 0) fail("the SDK opened no HTTP/2 session");
  for (const s of sessions) {
    if (!s.settings) fail(`HTTP/2 session to ${s.url} never received the server's SETTINGS`);
    if (s.alpn !== "h2c") fail(`session to ${s.url}: protocol ${s.alpn}, want h2c`);
  }
  const streams = sessions.reduce((n, s) => n + s.streams, 0);
  if (streams < calls) fail(`${calls} SDK calls but only ${streams} HTTP/2 streams`);
  console.log(`js smoke: ${got} records put and read back over ${calls} SDK calls on ${sessions.length} h2c session(s), ${streams} HTTP/2 streams`);
}

try {
  await main();
  client.destroy();
  process.exit(0);
} catch (err) {
  console.error(`js smoke FAILED: ${err?.stack ?? err}`);
  client.destroy();
  process.exit(1);
}
