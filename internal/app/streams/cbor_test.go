package streams_test

// CBOR 1.1 as the AWS Java SDK v2 speaks it: Content-Type
// application/x-amz-cbor-1.1, a map with text keys, blobs as byte strings
// and timestamps as tag 1 holding integer epoch milliseconds. Requests are
// built by hand from map[string]any with fxamacker/cbor, signed with SigV4,
// and every answer is checked against the JSON answer for the same call.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/tenantpulse/tenantpulse/internal/app/streams"
)

const cborContentType = "application/x-amz-cbor-1.1"

// genericCBOR decodes maps as map[string]any, as a client decoding into
// generic values would.
var genericCBOR = func() cbor.DecMode {
	m, err := cbor.DecOptions{DefaultMapType: reflect.TypeFor[map[string]any]()}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

func mustCBOR(t *testing.T, v any) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatalf("cannot encode CBOR: %v", err)
	}
	return b
}

// cborTimestamp is a timestamp as the Java SDK v2 writes it.
func cborTimestamp(ms int64) cbor.Tag { return cbor.Tag{Number: 1, Content: ms} }

func (s *testServer) postCBOR(t *testing.T, op string, v map[string]any) rawResponse {
	t.Helper()
	return rawCall(t, nil, s.url, "Kinesis_20131202."+op, cborContentType, mustCBOR(t, v), true)
}

// cborMap decodes a 200 CBOR response into its members, raw.
func cborMap(t *testing.T, r rawResponse) map[string]cbor.RawMessage {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %x", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != cborContentType {
		t.Fatalf("Content-Type %q, want %s", ct, cborContentType)
	}
	var m map[string]cbor.RawMessage
	if err := cbor.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a CBOR map: %v: %x", err, r.body)
	}
	return m
}

// cborAny decodes raw into a generic value (map[string]any for maps).
func cborAny(t *testing.T, raw cbor.RawMessage) any {
	t.Helper()
	if raw == nil {
		t.Fatal("member missing")
	}
	var v any
	if err := genericCBOR.Unmarshal(raw, &v); err != nil {
		t.Fatalf("cannot decode %x: %v", []byte(raw), err)
	}
	return v
}

func cborString(t *testing.T, raw cbor.RawMessage) string {
	t.Helper()
	s, ok := cborAny(t, raw).(string)
	if !ok {
		t.Fatalf("%x is not a CBOR text string", []byte(raw))
	}
	return s
}

func cborBytes(t *testing.T, raw cbor.RawMessage) []byte {
	t.Helper()
	b, ok := cborAny(t, raw).([]byte)
	if !ok {
		t.Fatalf("%x is not a CBOR byte string", []byte(raw))
	}
	return b
}

func cborInt(t *testing.T, raw cbor.RawMessage) int64 {
	t.Helper()
	switch v := cborAny(t, raw).(type) {
	case uint64:
		return int64(v)
	case int64:
		return v
	}
	t.Fatalf("%x is not a CBOR integer", []byte(raw))
	return 0
}

func cborList(t *testing.T, raw cbor.RawMessage) []map[string]cbor.RawMessage {
	t.Helper()
	var l []map[string]cbor.RawMessage
	if err := cbor.Unmarshal(raw, &l); err != nil {
		t.Fatalf("%x is not a CBOR array of maps: %v", []byte(raw), err)
	}
	return l
}

// cborMillis checks that raw is tag 1 holding an integer and returns it.
func cborMillis(t *testing.T, raw cbor.RawMessage) int64 {
	t.Helper()
	if len(raw) < 2 || raw[0] != 0xc1 || raw[1]>>5 != 0 {
		t.Fatalf("timestamp %x is not tag 1 holding an unsigned integer", []byte(raw))
	}
	return cborInt(t, raw[1:])
}

// jsonMillis converts a JSON number of epoch seconds to exact milliseconds.
func jsonMillis(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("timestamp %v (%T) is not a JSON number", v, v)
	}
	r, ok := new(big.Rat).SetString(n.String())
	if !ok {
		t.Fatalf("timestamp %s is not a decimal number", n)
	}
	r.Mul(r, big.NewRat(1000, 1))
	if !r.IsInt() {
		t.Fatalf("timestamp %s has more than millisecond precision", n)
	}
	return r.Num().Int64()
}

// wantCBORError checks a CBOR error response: status 400, the error type in
// X-Amzn-ErrorType, a CBOR map body with __type and message.
func wantCBORError(t *testing.T, r rawResponse, typ, msg string) {
	t.Helper()
	if r.status != http.StatusBadRequest {
		t.Errorf("status %d, want 400", r.status)
	}
	if got := r.header.Get("X-Amzn-ErrorType"); got != typ {
		t.Errorf("X-Amzn-ErrorType %q, want %q", got, typ)
	}
	if ct := r.header.Get("Content-Type"); ct != cborContentType {
		t.Errorf("Content-Type %q, want %s", ct, cborContentType)
	}
	var m map[string]any
	if err := cbor.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("error body is not a CBOR map: %v: %x", err, r.body)
	}
	gotType, _ := m["__type"].(string)
	gotMsg, _ := m["message"].(string)
	if gotType != typ {
		t.Errorf("__type %q, want %q (message %q)", gotType, typ, gotMsg)
	}
	if gotMsg == "" || !bytes.Contains([]byte(gotMsg), []byte(msg)) {
		t.Errorf("message %q, want one containing %q", gotMsg, msg)
	}
}

// A record read back through both encodings.
type wireRecord struct {
	seq, pk   string
	data      []byte
	arrivalMs int64
}

// readCBOR reads shard from TRIM_HORIZON (or the given iterator request
// members) through CBOR, checking the wire types of each member.
func readCBOR(t *testing.T, s *testServer, iterReq map[string]any) []wireRecord {
	t.Helper()
	it := cborMap(t, s.postCBOR(t, "GetShardIterator", iterReq))
	iterator := cborString(t, it["ShardIterator"])
	var out []wireRecord
	for range 100 {
		resp := s.postCBOR(t, "GetRecords", map[string]any{"ShardIterator": iterator, "Limit": 4})
		m := cborMap(t, resp)
		recs := cborList(t, m["Records"])
		// As a generic decoder sees it: Data is a byte string.
		var whole map[string]any
		if err := genericCBOR.Unmarshal(resp.body, &whole); err != nil {
			t.Fatalf("GetRecords response does not decode into map[string]any: %v", err)
		}
		for i, x := range whole["Records"].([]any) {
			if _, ok := x.(map[string]any)["Data"].([]byte); !ok {
				t.Errorf("record %d: Data decodes as %T, want []byte", i, x.(map[string]any)["Data"])
			}
		}
		behind := cborInt(t, m["MillisBehindLatest"])
		if behind < 0 {
			t.Errorf("MillisBehindLatest %d", behind)
		}
		for _, r := range recs {
			out = append(out, wireRecord{
				seq: cborString(t, r["SequenceNumber"]), pk: cborString(t, r["PartitionKey"]),
				data: cborBytes(t, r["Data"]), arrivalMs: cborMillis(t, r["ApproximateArrivalTimestamp"]),
			})
		}
		iterator = cborString(t, m["NextShardIterator"])
		if len(recs) == 0 {
			return out
		}
	}
	t.Fatal("GetRecords never reached the end of the shard")
	return nil
}

// readJSON is readCBOR through JSON.
func readJSON(t *testing.T, s *testServer, iterReq map[string]any) []wireRecord {
	t.Helper()
	it := decodeJSONOK(t, s.postJSON(t, "GetShardIterator", iterReq))
	iterator := it["ShardIterator"].(string)
	var out []wireRecord
	for range 100 {
		m := decodeJSONOK(t, s.postJSON(t, "GetRecords", map[string]any{"ShardIterator": iterator, "Limit": 4}))
		recs := m["Records"].([]any)
		for _, x := range recs {
			r := x.(map[string]any)
			data, err := base64.StdEncoding.DecodeString(r["Data"].(string))
			if err != nil {
				t.Fatalf("JSON Data is not base64: %v", err)
			}
			out = append(out, wireRecord{seq: r["SequenceNumber"].(string), pk: r["PartitionKey"].(string), data: data,
				arrivalMs: jsonMillis(t, r["ApproximateArrivalTimestamp"])})
		}
		iterator = m["NextShardIterator"].(string)
		if len(recs) == 0 {
			return out
		}
	}
	t.Fatal("GetRecords never reached the end of the shard")
	return nil
}

func TestCBORJavaSDKWire(t *testing.T) {
	s := startServer(t, streams.Options{})
	const name = "cbor"

	// CreateStream answers an empty CBOR map.
	created := cborMap(t, s.postCBOR(t, "CreateStream", map[string]any{"StreamName": name, "ShardCount": 2}))
	if len(created) != 0 {
		t.Errorf("CreateStream answered %d members, want an empty map", len(created))
	}

	// DescribeStreamSummary, by name and by ARN, against JSON.
	js := decodeJSONOK(t, s.postJSON(t, "DescribeStreamSummary", map[string]any{"StreamName": name}))["StreamDescriptionSummary"].(map[string]any)
	for _, req := range []map[string]any{{"StreamName": name}, {"StreamARN": arnOf(name)}} {
		m := cborMap(t, s.postCBOR(t, "DescribeStreamSummary", req))
		d := map[string]cbor.RawMessage{}
		if err := cbor.Unmarshal(m["StreamDescriptionSummary"], &d); err != nil {
			t.Fatal(err)
		}
		if got := cborString(t, d["StreamName"]); got != name || got != js["StreamName"] {
			t.Errorf("StreamName %q, JSON %q", got, js["StreamName"])
		}
		if got := cborString(t, d["StreamARN"]); got != arnOf(name) || got != js["StreamARN"] {
			t.Errorf("StreamARN %q, JSON %q, want %q", got, js["StreamARN"], arnOf(name))
		}
		if got := cborString(t, d["StreamStatus"]); got != "ACTIVE" || got != js["StreamStatus"] {
			t.Errorf("StreamStatus %q, JSON %q", got, js["StreamStatus"])
		}
		if got := cborInt(t, d["OpenShardCount"]); got != 2 || fmt.Sprint(got) != js["OpenShardCount"].(json.Number).String() {
			t.Errorf("OpenShardCount %d, JSON %v, want 2", got, js["OpenShardCount"])
		}
		if got := cborInt(t, d["RetentionPeriodHours"]); got != 24 {
			t.Errorf("RetentionPeriodHours %d, want 24", got)
		}
		if got, want := cborMillis(t, d["StreamCreationTimestamp"]), jsonMillis(t, js["StreamCreationTimestamp"]); got != want {
			t.Errorf("StreamCreationTimestamp %d ms, JSON says %d ms", got, want)
		}
		if age := time.Since(time.UnixMilli(cborMillis(t, d["StreamCreationTimestamp"]))); age < 0 || age > time.Minute {
			t.Errorf("StreamCreationTimestamp is %v old", age)
		}
	}

	// ListShards: MaxResults, then NextToken alone, against JSON.
	jshards := decodeJSONOK(t, s.postJSON(t, "ListShards", map[string]any{"StreamName": name}))["Shards"].([]any)
	first := cborMap(t, s.postCBOR(t, "ListShards", map[string]any{"StreamName": name, "MaxResults": 1}))
	second := cborMap(t, s.postCBOR(t, "ListShards", map[string]any{"NextToken": cborString(t, first["NextToken"])}))
	if _, ok := second["NextToken"]; ok {
		t.Error("the last ListShards page has a NextToken")
	}
	shards := append(cborList(t, first["Shards"]), cborList(t, second["Shards"])...)
	if len(shards) != 2 || len(jshards) != 2 {
		t.Fatalf("%d shards in CBOR, %d in JSON, want 2", len(shards), len(jshards))
	}
	var shardIDs []string
	for i, sh := range shards {
		j := jshards[i].(map[string]any)
		id := cborString(t, sh["ShardId"])
		shardIDs = append(shardIDs, id)
		var hk, sr map[string]string
		if err := cbor.Unmarshal(sh["HashKeyRange"], &hk); err != nil {
			t.Fatal(err)
		}
		if err := cbor.Unmarshal(sh["SequenceNumberRange"], &sr); err != nil {
			t.Fatal(err)
		}
		jhk, jsr := j["HashKeyRange"].(map[string]any), j["SequenceNumberRange"].(map[string]any)
		if id != j["ShardId"] || hk["StartingHashKey"] != jhk["StartingHashKey"] || hk["EndingHashKey"] != jhk["EndingHashKey"] ||
			sr["StartingSequenceNumber"] != jsr["StartingSequenceNumber"] {
			t.Errorf("shard %d: CBOR %s %v %v, JSON %v", i, id, hk, sr, j)
		}
	}

	// PutRecord and PutRecords with binary data as byte strings.
	put := map[string][]byte{} // sequence number -> data
	pr := cborMap(t, s.postCBOR(t, "PutRecord", map[string]any{
		"StreamName": name, "PartitionKey": "single", "Data": []byte{0x00, 0xff, 0xfe, 'j', 'a', 'v', 'a', 0x80},
	}))
	seq := cborString(t, pr["SequenceNumber"])
	checkSeq(t, &seq)
	if !slices.Contains(shardIDs, cborString(t, pr["ShardId"])) {
		t.Errorf("PutRecord answered shard %q", cborString(t, pr["ShardId"]))
	}
	put[seq] = []byte{0x00, 0xff, 0xfe, 'j', 'a', 'v', 'a', 0x80}
	var recs []any
	var datas [][]byte
	for i := range 7 {
		d := append([]byte{byte(i), 0xc0, 0xc1}, fmt.Sprintf("batch-%d", i)...)
		r := map[string]any{"PartitionKey": fmt.Sprintf("pk-%d", i), "Data": d}
		if i == 6 {
			r["ExplicitHashKey"] = "0"
			r["Data"] = []byte{} // an empty blob
			d = []byte{}
		}
		recs = append(recs, r)
		datas = append(datas, d)
	}
	prs := cborMap(t, s.postCBOR(t, "PutRecords", map[string]any{"StreamARN": arnOf(name), "Records": recs}))
	if n := cborInt(t, prs["FailedRecordCount"]); n != 0 {
		t.Fatalf("FailedRecordCount %d", n)
	}
	results := cborList(t, prs["Records"])
	if len(results) != len(recs) {
		t.Fatalf("%d results for %d records", len(results), len(recs))
	}
	for i, r := range results {
		seq := cborString(t, r["SequenceNumber"])
		checkSeq(t, &seq)
		put[seq] = datas[i]
	}
	if got := cborString(t, results[6]["ShardId"]); got != shardIDs[0] {
		t.Errorf("ExplicitHashKey 0 went to %s, want %s", got, shardIDs[0])
	}

	// GetShardIterator TRIM_HORIZON and GetRecords in both encodings: the
	// same records, sequence numbers and arrival times.
	total := 0
	for _, id := range shardIDs {
		req := map[string]any{"StreamName": name, "ShardId": id, "ShardIteratorType": "TRIM_HORIZON"}
		viaCBOR, viaJSON := readCBOR(t, s, req), readJSON(t, s, req)
		if len(viaCBOR) != len(viaJSON) {
			t.Fatalf("shard %s: %d records in CBOR, %d in JSON", id, len(viaCBOR), len(viaJSON))
		}
		for i, c := range viaCBOR {
			j := viaJSON[i]
			if c.seq != j.seq || c.pk != j.pk || !bytes.Equal(c.data, j.data) || c.arrivalMs != j.arrivalMs {
				t.Errorf("shard %s record %d: CBOR %+v, JSON %+v", id, i, c, j)
			}
			if want, ok := put[c.seq]; !ok || !bytes.Equal(c.data, want) {
				t.Errorf("shard %s record %d: sequence number %s with data %x, put %x", id, i, c.seq, c.data, want)
			}
			if age := time.Since(time.UnixMilli(c.arrivalMs)); age < 0 || age > time.Minute {
				t.Errorf("record %s arrived %v ago", c.seq, age)
			}
		}
		total += len(viaCBOR)
	}
	if total != len(put) {
		t.Errorf("read %d records, put %d", total, len(put))
	}

	// AT_TIMESTAMP with a tag-1 integer-millisecond timestamp.
	if b := mustCBOR(t, cborTimestamp(time.Now().UnixMilli())); b[0] != 0xc1 || b[1]>>5 != 0 {
		t.Fatalf("the request timestamp encodes as %x, want tag 1 holding an unsigned integer", b)
	}
	waitPastMillis(t, time.Now().UnixMilli(), 3*time.Millisecond)
	at := time.Now().UnixMilli()
	waitPastMillis(t, at, 2*time.Millisecond)
	var later []any
	for i := range 3 {
		later = append(later, map[string]any{"PartitionKey": "later", "ExplicitHashKey": "1", "Data": []byte(fmt.Sprintf("later-%d", i))})
	}
	if n := cborInt(t, cborMap(t, s.postCBOR(t, "PutRecords", map[string]any{"StreamName": name, "Records": later}))["FailedRecordCount"]); n != 0 {
		t.Fatalf("FailedRecordCount %d", n)
	}
	viaCBOR := readCBOR(t, s, map[string]any{"StreamName": name, "ShardId": shardIDs[0], "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": cborTimestamp(at)})
	viaJSON := readJSON(t, s, map[string]any{"StreamName": name, "ShardId": shardIDs[0], "ShardIteratorType": "AT_TIMESTAMP",
		"Timestamp": json.Number(fmt.Sprintf("%d.%03d", at/1000, at%1000))})
	var gotC, gotJ []string
	for _, r := range viaCBOR {
		gotC = append(gotC, string(r.data))
	}
	for _, r := range viaJSON {
		gotJ = append(gotJ, string(r.data))
	}
	if want := []string{"later-0", "later-1", "later-2"}; !slices.Equal(gotC, want) || !slices.Equal(gotJ, want) {
		t.Errorf("AT_TIMESTAMP read %q in CBOR and %q in JSON, want %q", gotC, gotJ, want)
	}

	// An error in CBOR.
	wantCBORError(t, s.postCBOR(t, "DescribeStreamSummary", map[string]any{"StreamName": "missing"}), "ResourceNotFoundException", "missing")
	wantCBORError(t, s.postCBOR(t, "GetShardIterator", map[string]any{"StreamName": name, "ShardId": shardIDs[0], "ShardIteratorType": "AT_TIMESTAMP",
		"Timestamp": "yesterday"}), "SerializationException", "")
}

func TestCBORPutRecordsValidationLeavesShardEmpty(t *testing.T) {
	s := startServer(t, streams.Options{})
	cborMap(t, s.postCBOR(t, "CreateStream", map[string]any{"StreamName": "v", "ShardCount": 1}))
	long := string(bytes.Repeat([]byte{'k'}, 257))
	r := s.postCBOR(t, "PutRecords", map[string]any{"StreamName": "v", "Records": []any{
		map[string]any{"PartitionKey": "good", "Data": []byte("1")},
		map[string]any{"PartitionKey": long, "Data": []byte("2")},
	}})
	wantCBORError(t, r, "ValidationException", "partitionKey")
	if recs := readCBOR(t, s, map[string]any{"StreamName": "v", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}); len(recs) != 0 {
		t.Errorf("a refused PutRecords left %d records", len(recs))
	}
}
