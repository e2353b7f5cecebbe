package streams

// GetShardIterator.
//
// Behavior: as AWS, for TRIM_HORIZON (the oldest record within retention),
// LATEST (just after the newest record), AT_SEQUENCE_NUMBER,
// AFTER_SEQUENCE_NUMBER and AT_TIMESTAMP (the first record that arrived at
// or after Timestamp; LATEST if none). The iterator is valid for 5 minutes.
// A sequence number from another shard or stream is an
// InvalidArgumentException, as in AWS.

import (
	"strconv"
	"strings"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

type getShardIteratorInput struct {
	StreamName             string             `json:"StreamName"`
	StreamARN              string             `json:"StreamARN"`
	ShardId                string             `json:"ShardId"`
	ShardIteratorType      string             `json:"ShardIteratorType"`
	StartingSequenceNumber string             `json:"StartingSequenceNumber"`
	Timestamp              *awswire.Timestamp `json:"Timestamp"`
}

type getShardIteratorOutput struct {
	ShardIterator string `json:"ShardIterator"`
}

func (s *Service) getShardIterator(c *call) error {
	var in getShardIteratorInput
	if err := c.decode(&in); err != nil {
		return err
	}
	if in.ShardId == "" {
		return validationf("null", "shardId", "not be null")
	}
	if len(in.ShardId) > 128 {
		return validationf(in.ShardId, "shardId", "have length less than or equal to 128")
	}
	switch in.ShardIteratorType {
	case "TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP":
	case "":
		return validationf("null", "shardIteratorType", "not be null")
	default:
		return validationf(in.ShardIteratorType, "shardIteratorType", "satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]")
	}
	st, err := s.resolveStream(in.StreamName, in.StreamARN)
	if err != nil {
		return err
	}
	sh, err := findShard(st, in.ShardId)
	if err != nil {
		return err
	}
	var off uint64
	switch in.ShardIteratorType {
	case "TRIM_HORIZON":
		off, _, err = sh.Bounds()
	case "LATEST":
		off = sh.End()
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		if in.StartingSequenceNumber == "" {
			return awswire.Errorf(awswire.InvalidArgument, "Must specify StartingSequenceNumber for %s.", in.ShardIteratorType)
		}
		q, perr := streamlog.ParseSeq(in.StartingSequenceNumber)
		if perr != nil || int(q.Shard) != sh.Index() || q.Gen < sh.StartingSeq().Gen {
			return awswire.Errorf(awswire.InvalidArgument,
				"StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid because it did not come from this stream.",
				in.StartingSequenceNumber, sh.ID(), st.Name(), Account)
		}
		off = q.Offset
		if in.ShardIteratorType == "AFTER_SEQUENCE_NUMBER" {
			off++
		}
	case "AT_TIMESTAMP":
		if in.Timestamp == nil {
			return awswire.Errorf(awswire.InvalidArgument, "Must specify Timestamp for AT_TIMESTAMP.")
		}
		off, err = sh.OffsetAtTime(in.Timestamp.UnixMilli())
	}
	if err != nil {
		return err
	}
	it := iterator{stream: st.Name(), created: st.Info().Created.UnixMilli(), shard: sh.Index(), offset: off, issuedAt: s.opts.Now().UnixMilli()}
	return c.reply(&getShardIteratorOutput{ShardIterator: s.iters.encode(it)})
}

// findShard resolves a shard id; like AWS it also accepts the bare number
// ("1") and unpadded forms ("shardId-1").
func findShard(st *streamlog.Stream, id string) (*streamlog.Shard, error) {
	if sh, ok := st.ShardByID(id); ok {
		return sh, nil
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(id, "shardId-")); err == nil && n >= 0 && n < len(st.Shards()) {
		return st.Shards()[n], nil
	}
	return nil, awswire.Errorf(awswire.ResourceNotFound, "Shard %s in stream %s under account %s does not exist", id, st.Name(), Account)
}
