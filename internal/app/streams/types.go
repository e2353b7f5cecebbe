package streams

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// Wire shapes shared by several operations, named as in the Kinesis API.

type streamModeDetails struct {
	StreamMode string `json:"StreamMode"`
}

type enhancedMetrics struct {
	ShardLevelMetrics []string `json:"ShardLevelMetrics"`
}

type hashKeyRange struct {
	StartingHashKey string `json:"StartingHashKey"`
	EndingHashKey   string `json:"EndingHashKey"`
}

type sequenceNumberRange struct {
	StartingSequenceNumber string `json:"StartingSequenceNumber"`
	EndingSequenceNumber   string `json:"EndingSequenceNumber,omitempty"`
}

type shardDesc struct {
	ShardId             string              `json:"ShardId"`
	ParentShardId       string              `json:"ParentShardId,omitempty"`
	HashKeyRange        hashKeyRange        `json:"HashKeyRange"`
	SequenceNumberRange sequenceNumberRange `json:"SequenceNumberRange"`
}

func describeShard(sh *streamlog.Shard) shardDesc {
	start, end := sh.HashKeyRange()
	return shardDesc{
		ShardId:             sh.ID(),
		HashKeyRange:        hashKeyRange{StartingHashKey: start.String(), EndingHashKey: end.String()},
		SequenceNumberRange: sequenceNumberRange{StartingSequenceNumber: sh.StartingSeq().String()},
	}
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

func ts(t time.Time) *awswire.Timestamp { return &awswire.Timestamp{Time: t} }

// pageToken is the opaque NextToken of the listing operations: what the
// listing is of, where it stopped and when the token was issued.
func encodeToken(kind, scope, after string, now time.Time) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + scope + "\x00" + after + "\x00" + strconv.FormatInt(now.UnixMilli(), 10)))
}

// tokenTTL is how long a NextToken stays valid, as in Kinesis.
const tokenTTL = 300 * time.Second

func decodeToken(tok, kind string, now time.Time) (scope, after string, err error) {
	b, derr := base64.RawURLEncoding.DecodeString(tok)
	parts := strings.Split(string(b), "\x00")
	if derr != nil || len(parts) != 4 || parts[0] != kind {
		return "", "", awswire.Errorf(awswire.InvalidArgument, "NextToken %q is not valid: pass the NextToken of the previous response unchanged.", tok)
	}
	issued, perr := strconv.ParseInt(parts[3], 10, 64)
	if perr != nil {
		return "", "", awswire.Errorf(awswire.InvalidArgument, "NextToken %q is not valid: pass the NextToken of the previous response unchanged.", tok)
	}
	if now.Sub(time.UnixMilli(issued)) > tokenTTL {
		return "", "", awswire.Errorf(awswire.ExpiredNextToken, "The NextToken has expired: it is valid for %d seconds. Start the listing again.", int(tokenTTL.Seconds()))
	}
	return parts[1], parts[2], nil
}

func validateLimit(v *int32, field string, lo, hi int) error {
	if v != nil && (int(*v) < lo || int(*v) > hi) {
		return validationf(*v, field, "have value between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
	}
	return nil
}
