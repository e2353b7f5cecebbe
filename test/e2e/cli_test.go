package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"
)

// debianAWS is the AWS CLI v2 from Debian's awscli package. It is called by
// path: a pyenv shim named aws may come first on PATH.
const debianAWS = "/usr/bin/aws"

const cliTimeout = 2 * time.Minute

// TestSeedCommandsWithAWSCLI runs the seed's own commands against serve:
// create-stream bg-jobs, list-streams, describe-stream-summary, put-record,
// and the iterator captured with --query 'ShardIterator' (so still wrapped
// in double quotes) handed unquoted to get-records, as the seed writes it.
func TestSeedCommandsWithAWSCLI(t *testing.T) {
	if _, err := os.Stat(debianAWS); err != nil {
		t.Fatalf("the AWS CLI from Debian's awscli package is needed at %s (run make deps): %v", debianAWS, err)
	}
	srv := startServer(t)
	env := clientEnv(t)
	aws := func(args ...string) string {
		t.Helper()
		return runCmd(t, cliTimeout, "", env, debianAWS, append([]string{"--endpoint-url", srv.url}, args...)...)
	}

	aws("kinesis", "create-stream", "--stream-name", "bg-jobs", "--shard-count", "1")

	var list struct{ StreamNames []string }
	decodeJSON(t, aws("kinesis", "list-streams"), &list)
	for _, want := range []string{"bg-jobs", "companies", "jobs"} {
		if !slices.Contains(list.StreamNames, want) {
			t.Errorf("list-streams: StreamNames %q lacks %q", list.StreamNames, want)
		}
	}

	var sum struct {
		StreamDescriptionSummary struct {
			StreamName           string
			StreamARN            string
			StreamStatus         string
			RetentionPeriodHours int
			OpenShardCount       int
		}
	}
	waitFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		decodeJSON(t, aws("kinesis", "describe-stream-summary", "--stream-name", "bg-jobs"), &sum)
		if sum.StreamDescriptionSummary.StreamStatus != "ACTIVE" {
			return fmt.Errorf("bg-jobs is %s, not ACTIVE", sum.StreamDescriptionSummary.StreamStatus)
		}
		return nil
	})
	s := sum.StreamDescriptionSummary
	if s.StreamName != "bg-jobs" || s.StreamARN != "arn:aws:kinesis:us-west-2:000000000000:stream/bg-jobs" ||
		s.StreamStatus != "ACTIVE" || s.RetentionPeriodHours != 24 || s.OpenShardCount != 1 {
		t.Errorf("describe-stream-summary: got %+v; want bg-jobs, arn:aws:kinesis:us-west-2:000000000000:stream/bg-jobs, ACTIVE, 24 hours, 1 open shard", s)
	}

	const payload = `{"job":"send-welcome-email","tenant":"acme","attempt":1}`
	var put struct{ ShardId, SequenceNumber string }
	decodeJSON(t, aws("kinesis", "put-record", "--stream-name", "bg-jobs", "--partition-key", "tenant-acme",
		"--data", payload, "--cli-binary-format", "raw-in-base64-out"), &put)
	if put.ShardId != "shardId-000000000000" || put.SequenceNumber == "" {
		t.Fatalf("put-record: got %+v; want shardId-000000000000 and a sequence number", put)
	}

	// The seed's two commands, verbatim, under bash; aws is Debian's CLI
	// pointed at the server (CLI 2.9 has no AWS_ENDPOINT_URL). The iterator
	// is checked to be still wrapped in double quotes.
	seedEnv := append(slices.Clone(env), "ENDPOINT="+srv.url, "AWS="+debianAWS)
	script := `set -euo pipefail
aws() { "$AWS" --endpoint-url "$ENDPOINT" "$@"; }
SHARD_ITERATOR=$(aws kinesis get-shard-iterator --shard-id shardId-000000000000 --shard-iterator-type TRIM_HORIZON --stream-name bg-jobs --query 'ShardIterator')
printf 'iterator=%s\n' "$SHARD_ITERATOR" >&2
case "$SHARD_ITERATOR" in
  \"*\") ;;
  *) echo "the iterator is not wrapped in double quotes: $SHARD_ITERATOR" >&2; exit 3 ;;
esac
aws kinesis get-records --shard-iterator $SHARD_ITERATOR
`
	out := runCmd(t, cliTimeout, "", seedEnv, "bash", "-c", script)
	var got struct {
		Records []struct {
			SequenceNumber string
			PartitionKey   string
			Data           string
		}
		NextShardIterator string
	}
	decodeJSON(t, out, &got)
	if len(got.Records) != 1 {
		t.Fatalf("get-records: got %d records, want the 1 put:\n%s", len(got.Records), out)
	}
	r := got.Records[0]
	data, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		t.Fatalf("get-records: Data %q is not base64: %v", r.Data, err)
	}
	if string(data) != payload || r.PartitionKey != "tenant-acme" || r.SequenceNumber != put.SequenceNumber {
		t.Errorf("get-records: got data %q, key %q, sequence number %s; want %q, tenant-acme, %s",
			data, r.PartitionKey, r.SequenceNumber, payload, put.SequenceNumber)
	}
	if got.NextShardIterator == "" {
		t.Errorf("get-records: no NextShardIterator")
	}
}

func decodeJSON(t testing.TB, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("cannot decode JSON %q: %v", s, err)
	}
}
