package streams

// CreateStream.
//
// Behavior: creates the stream with ShardCount shards splitting the hash key
// space evenly, as Kinesis does. Without ShardCount (or with StreamMode
// ON_DEMAND) the stream is on-demand with 4 shards, AWS's initial on-demand
// size. Tags are stored with the stream. Differences from AWS: the stream is
// ACTIVE at once (AWS shows CREATING for a while), and on-demand streams do
// not scale (resharding comes later). Errors: ResourceInUseException for a
// name in use, LimitExceededException past the account's shard limit (500
// by default, --shard-limit), ValidationException for bad names, counts and
// tags.

import (
	"errors"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

type createStreamInput struct {
	StreamName        string             `json:"StreamName"`
	ShardCount        *int32             `json:"ShardCount"`
	StreamModeDetails *streamModeDetails `json:"StreamModeDetails"`
	Tags              map[string]string  `json:"Tags"`
}

// onDemandShards is the shard count of a new on-demand stream.
const onDemandShards = 4

func (s *Service) createStream(c *call) error {
	var in createStreamInput
	if err := c.decode(&in); err != nil {
		return err
	}
	if in.StreamName == "" {
		return validationf("null", "streamName", "not be null")
	}
	if err := validateStreamName(in.StreamName); err != nil {
		return err
	}
	mode := streamlog.ModeProvisioned
	if in.StreamModeDetails != nil {
		switch in.StreamModeDetails.StreamMode {
		case streamlog.ModeProvisioned, streamlog.ModeOnDemand:
			mode = in.StreamModeDetails.StreamMode
		default:
			return validationf(in.StreamModeDetails.StreamMode, "streamModeDetails.streamMode", "satisfy enum value set: [PROVISIONED, ON_DEMAND]")
		}
	} else if in.ShardCount == nil {
		mode = streamlog.ModeOnDemand
	}
	shards := onDemandShards
	if mode == streamlog.ModeProvisioned {
		if in.ShardCount == nil {
			return awswire.Errorf(awswire.InvalidArgument, "ShardCount is required for a PROVISIONED stream.")
		}
		if *in.ShardCount < 1 || *in.ShardCount > 100000 {
			return validationf(*in.ShardCount, "shardCount", "have value between 1 and 100000")
		}
		shards = int(*in.ShardCount)
	}
	if err := validateTags(in.Tags, nil); err != nil {
		return err
	}
	s.createMu.Lock()
	defer s.createMu.Unlock()
	open, onDemand := s.openShards()
	if open+shards > s.opts.AccountShardLimit {
		return awswire.Errorf(awswire.LimitExceeded,
			"This request would exceed the shard limit for the account %s in %s. Current limit of shards is %d, open shards %d, requested %d.",
			Account, c.region, s.opts.AccountShardLimit, open, shards)
	}
	if mode == streamlog.ModeOnDemand && onDemand >= s.opts.OnDemandStreamLimit {
		return awswire.Errorf(awswire.LimitExceeded, "This request would exceed the limit of %d on-demand streams for the account %s.", s.opts.OnDemandStreamLimit, Account)
	}
	_, err := s.store.CreateStream(streamlog.StreamConfig{Name: in.StreamName, ShardCount: shards, Mode: mode, Tags: in.Tags})
	if errors.Is(err, streamlog.ErrStreamExists) {
		return awswire.Errorf(awswire.ResourceInUse, "Stream %s under account %s already exists.", in.StreamName, Account)
	}
	if err != nil {
		return err
	}
	return c.reply(struct{}{})
}

// openShards counts the open shards and on-demand streams of the account.
func (s *Service) openShards() (shards, onDemand int) {
	for _, st := range s.store.Streams() {
		info := st.Info()
		shards += info.ShardCount
		if info.Mode == streamlog.ModeOnDemand {
			onDemand++
		}
	}
	return shards, onDemand
}
